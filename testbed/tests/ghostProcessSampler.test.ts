// @module-tag integration
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GhostProcessSampler, waitFor } from '../src/index.js';

// A stand-in for a Ghost: connects to the "database" port and holds the connection.
const CLIENT = `
const socket = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
socket.on('error', () => {});
setInterval(() => {}, 1000);
`;

describe('GhostProcessSampler', () => {
  let database: Server;
  let port = 0;
  const sockets: Socket[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
    port = (database.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => database.close(resolve));
  });

  const start = (args: string[]) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    children.push(child);
    return child;
  };

  it('tells alive from stopped and gone, and connected from not', async () => {
    const connected = start(['-e', CLIENT, String(port)]);
    const idle = start(['-e', 'setInterval(() => {}, 1000)']);
    const sampler = new GhostProcessSampler({
      databasePort: port,
      processes: () => [
        { label: 'connected', pid: connected.pid ?? 0 },
        { label: 'idle', pid: idle.pid ?? 0 },
      ],
    });
    const sample = await waitFor(
      async () => {
        const taken = sampler.sample();
        return taken.connected.length === 1 ? taken : undefined;
      },
      { what: 'the client to connect', timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(sample.alive.sort()).toEqual(['connected', 'idle']);
    expect(sample.connected).toEqual(['connected']);

    connected.kill('SIGSTOP');
    await waitFor(async () => (sampler.sample().alive.includes('connected') ? undefined : true), {
      what: 'the stopped process to count as not alive',
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    connected.kill('SIGCONT');
    await waitFor(async () => (sampler.sample().connected.includes('connected') ? true : undefined), {
      what: 'the continued process to count again',
      timeoutMs: 5_000,
      intervalMs: 50,
    });

    // The server ends the connection: the process lives on, no longer connected.
    for (const socket of sockets) socket.destroy();
    await waitFor(async () => (sampler.sample().connected.length === 0 ? true : undefined), {
      what: 'the closed connection to stop counting',
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    expect(sampler.samples.at(-1)?.alive).toContain('connected');

    idle.kill('SIGKILL');
    await new Promise((resolve) => idle.once('exit', resolve));
    expect(sampler.sample().alive).toEqual(['connected']);
    expect(sampler.overlaps()).toEqual([]);
    expect(sampler.aliveOverlaps().length).toBeGreaterThan(0);
  });
});
