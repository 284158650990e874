import type { RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { MINUTE, type StepContext } from '../SwitchStep.js';
import { readReplication } from './readReplication.js';

/**
 * Waits until the site's file system takes part in no replication, as its own region sees it
 * (deletion takes minutes). `label` (e.g. `leftover`) qualifies the replication in the timeout
 * message and in the states reported; without it a state reads `status …` or `deleted`.
 * Returns the last state.
 */
export function waitForReplicationDeleted(context: StepContext, site: RegionSite, label?: string): Promise<string> {
  const subject = label === undefined ? 'replication' : `${label} replication`;
  const deleted = label === undefined ? 'deleted' : `${label} deleted`;
  return poll(
    `the ${subject} of ${site.fileSystemId} to be deleted`,
    20 * MINUTE,
    context.pacing,
    async () => {
      const replication = await readReplication(context, site);
      return {
        done: replication === undefined,
        state: replication ? `${label ?? 'status'} ${replication.destination?.Status ?? 'unknown'}` : deleted,
      };
    },
    context.progress,
  );
}
