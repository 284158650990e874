import { connect } from 'node:net';
import { GHOST_CONTAINER } from './HolderTaskStatus.js';

/**
 * Waits until Ghost has stopped, at most `maxWaitMs`. Resolves true when Ghost is known stopped,
 * false when that was not seen by the deadline.
 *
 * On ECS (`metadataUri`, the task metadata endpoint v4): the `ghost` container's `KnownStatus` is
 * `STOPPED`, i.e. its process has exited. A closed port is not enough: Ghost closes its listener
 * first and finishes its database work afterwards.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-response.html
 * Without an endpoint (a sidecar run by hand beside a local Ghost): nothing accepts connections at
 * Ghost's address any more.
 */
export async function waitForGhostToStop(
  ghostUrl: string,
  maxWaitMs: number,
  options: { metadataUri?: string; pollMs?: number; fetchTask?: typeof fetch } = {},
): Promise<boolean> {
  const pollMs = options.pollMs ?? 200;
  const deadline = Date.now() + maxWaitMs;
  const stopped = options.metadataUri
    ? metadataSaysStopped(options.metadataUri, options.fetchTask ?? fetch)
    : portClosed(ghostUrl, Math.min(1_000, pollMs * 5));
  for (;;) {
    if (await stopped()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function metadataSaysStopped(metadataUri: string, fetchTask: typeof fetch): () => Promise<boolean> {
  const url = `${metadataUri.replace(/\/$/, '')}/task`;
  return async () => {
    try {
      const response = await fetchTask(url, { signal: AbortSignal.timeout(1_000) });
      if (!response.ok) return false;
      const body = (await response.json()) as { Containers?: { Name?: unknown; KnownStatus?: unknown }[] };
      const ghost = body.Containers?.find((container) => container.Name === GHOST_CONTAINER);
      return ghost?.KnownStatus === 'STOPPED';
    } catch {
      // Not answering is not evidence: the lease then waits out its TTL.
      return false;
    }
  };
}

function portClosed(ghostUrl: string, timeoutMs: number): () => Promise<boolean> {
  const url = new URL(ghostUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return async () => !(await accepts(host, port, timeoutMs));
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
