import { connect } from 'node:net';

/**
 * Waits until nothing accepts connections at Ghost's address (Ghost has stopped), at most
 * `maxWaitMs`. Resolves true when Ghost is gone, false when it still listened at the deadline.
 */
export async function waitForGhostToStop(ghostUrl: string, maxWaitMs: number, pollMs = 200): Promise<boolean> {
  const url = new URL(ghostUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    if (!(await accepts(host, port, Math.min(1_000, pollMs * 5)))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
