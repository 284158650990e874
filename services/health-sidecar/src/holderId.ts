import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

const MAX_LENGTH = 255;

/**
 * Names this sidecar process as a lease holder: the ECS task ARN (from the task metadata endpoint)
 * when there is one, so an operator can find the task; else host and pid. A random suffix keeps two
 * processes apart even on one host. With the ARN comes the task's cluster (`Cluster`), where a
 * standby asks ECS about a holder's task.
 */
export async function resolveHolderId(
  metadataUri: string | undefined,
  fetchTask: (url: string, init: RequestInit) => Promise<Response> = fetch,
): Promise<{ holder: string; fromMetadata: boolean; cluster?: string }> {
  const suffix = randomBytes(4).toString('hex');
  if (metadataUri) {
    try {
      const response = await fetchTask(`${metadataUri.replace(/\/$/, '')}/task`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = response.ok ? ((await response.json()) as { TaskARN?: unknown; Cluster?: unknown }) : {};
      if (typeof body.TaskARN === 'string' && body.TaskARN !== '') {
        const cluster = typeof body.Cluster === 'string' && body.Cluster !== '' ? body.Cluster : undefined;
        return { holder: `${body.TaskARN.slice(0, MAX_LENGTH - 9)}#${suffix}`, fromMetadata: true, cluster };
      }
    } catch {
      // Falls back to the host name below; the caller logs that the metadata was not available.
    }
  }
  return { holder: `${hostname()}:${process.pid}#${suffix}`.slice(-MAX_LENGTH), fromMetadata: false };
}
