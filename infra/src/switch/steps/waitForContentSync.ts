import type { RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';

/** Waits until EFS has copied to the target everything written before Ghost stopped. */
export function waitForContentSync(from: RegionSite, to: RegionSite): SwitchStep {
  return {
    id: 'sync-content',
    title: `Wait until EFS has replicated to ${to.region} everything written before Ghost stopped`,
    why: 'EFS replicates every few minutes (RPO about 15 min): deleting the replication earlier would lose the last uploads.',
    calls: [describeReplicationCall(from)],
    verify: "The destination's LastReplicatedTimestamp is later than the moment Ghost stopped.",
    ifFailed:
      'Replication has not caught up. Run again to keep waiting, or run with --mode disaster to accept losing the content written in the last minutes.',
    expected: { seconds: 15 * 60, basis: 'EFS replication RPO of 15 minutes for most file systems (worst case)' },
    async run(context) {
      const stoppedAt = context.facts.ghostStoppedAt ?? context.pacing.now();
      return poll(
        'EFS replication to reach the moment Ghost stopped',
        30 * MINUTE,
        context.pacing,
        async () => {
          const replication = await readReplication(context, from);
          if (!replication?.destination) {
            throw new Error(`${from.fileSystemId} has no replication to ${to.region}; nothing to wait for`);
          }
          const last = replication.destination.LastReplicatedTimestamp;
          const status = replication.destination.Status;
          if (status === 'PAUSING' || status === 'PAUSED' || status === 'ERROR' || status === 'DELETING') {
            // Nothing more reaches the target: waiting would only run into the timeout.
            throw new Error(
              `The replication to ${to.region} is ${status}${replication.destination.StatusMessage ? ` (${replication.destination.StatusMessage})` : ''}; it last replicated ${last?.toISOString() ?? 'never'}`,
            );
          }
          return {
            done: last !== undefined && last.getTime() >= stoppedAt,
            state: `status ${replication.destination.Status}, last replicated ${last?.toISOString() ?? 'never'}`,
          };
        },
        context.progress,
      );
    },
  };
}
