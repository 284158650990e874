import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port handed out; below it are well-known and commonly configured services. */
const LOWEST_PORT = 10_000;
const ATTEMPTS = 50;

/**
 * Where the kernel picks the local ports of outgoing connections (Linux; elsewhere the IANA range).
 * A server that binds seconds after its port was chosen (Ghost boots for seconds before it listens)
 * loses the port when an outgoing connection is given it meanwhile, so ports are chosen below it.
 */
function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const start = Number(low);
    return Number.isInteger(start) && start > LOWEST_PORT ? start : 49_152;
  } catch {
    return 49_152;
  }
}

function listensOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(address && typeof address === 'object' ? address.port : undefined));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, outside the range outgoing connections take
 * their local ports from, chosen at random so that test files running side by side rarely meet.
 */
export async function freePort(): Promise<number> {
  const end = ephemeralRangeStart();
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const candidate = LOWEST_PORT + Math.floor(Math.random() * (end - LOWEST_PORT));
    const port = await listensOn(candidate);
    if (port !== undefined) return port;
  }
  const picked = await listensOn(0);
  if (picked === undefined) throw new Error('could not find a free TCP port on 127.0.0.1');
  return picked;
}
