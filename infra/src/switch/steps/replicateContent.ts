import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * Creates EFS replication source -> destination (overwriting the destination's content) and waits
 * for the first full copy (`waitForSync`) or only for the replication to start.
 */
export function replicateContent(
  source: RegionSite,
  destination: RegionSite,
  id: 'bring-content-back' | 'restore-pilot-light',
  waitForSync: boolean,
  bestEffort = false,
): SwitchStep {
  const unprotect = awsCall('efs:UpdateFileSystemProtection', destination.region, {
    FileSystemId: destination.fileSystemId,
    ReplicationOverwriteProtection: 'DISABLED',
  });
  const create = awsCall('efs:CreateReplicationConfiguration', source.region, {
    SourceFileSystemId: source.fileSystemId,
    Destinations: [{ Region: destination.region, FileSystemId: destination.fileSystemId }],
  });
  return {
    id,
    title: waitForSync
      ? `Replicate the content written in ${source.region} back to ${destination.region} and wait for the first sync`
      : `Re-create EFS replication ${source.region} -> ${destination.region} (the pilot light's copy)`,
    why: waitForSync
      ? `${destination.region}'s file system is stale since the failover; it is overwritten with the current content while Ghost still serves.`
      : `${destination.region} goes back to standby with a replica of the content, ready for the next failover.`,
    calls: [unprotect, create, describeReplicationCall(source)],
    verify: waitForSync
      ? 'The replication is ENABLED and has a LastReplicatedTimestamp (the first full copy finished).'
      : 'The replication exists and is ENABLING or ENABLED (the first copy continues in the background).',
    ifFailed: waitForSync
      ? 'Ghost still serves from the current region; nothing else changed. Run again: an existing replication is kept and the wait resumes.'
      : `Ghost serves from ${source.region}; only the standby copy is missing. Run again when ${destination.region} answers, or create the replication in the console.`,
    expected: waitForSync
      ? { seconds: 15 * 60, basis: 'EFS: the first copy depends on the amount of data; 15 min for a small site' }
      : { seconds: 60, basis: 'EFS: creating a replication configuration (the copy continues in the background)' },
    bestEffort,
    async run(context) {
      const existing = await readReplication(context, source);
      if (existing === undefined) {
        await sendCall(context.clients, unprotect);
        await sendCall(context.clients, create);
      } else if (existing.destination?.FileSystemId !== destination.fileSystemId) {
        throw new Error(
          `${source.fileSystemId} already replicates to ${existing.destination?.FileSystemId} in ${existing.destination?.Region}`,
        );
      }
      return poll(
        waitForSync
          ? `the first replication to ${destination.region}`
          : `replication to ${destination.region} to start`,
        waitForSync ? 240 * MINUTE : 10 * MINUTE,
        context.pacing,
        async () => {
          const replication = await readReplication(context, source);
          const status = replication?.destination?.Status ?? 'missing';
          if (status === 'ERROR') throw new Error(`Replication to ${destination.region} is in ERROR`);
          const last = replication?.destination?.LastReplicatedTimestamp;
          return {
            done: waitForSync
              ? status === 'ENABLED' && last !== undefined
              : status === 'ENABLED' || status === 'ENABLING',
            state: `status ${status}, last replicated ${last?.toISOString() ?? 'never'}`,
          };
        },
        context.progress,
      );
    },
  };
}
