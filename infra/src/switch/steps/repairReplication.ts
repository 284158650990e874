import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { waitForReplicationDeleted } from '../reads/waitForReplicationDeleted.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * After a disaster switch the region that was lost still holds its side of the old replication
 * (the other side was deleted locally). A file system can be in one replication only, so that
 * leftover blocks replicating content back into it: it is deleted here, on its side only.
 */
export function repairReplication(from: RegionSite, to: RegionSite): SwitchStep {
  const deleteLeftover = awsCall('efs:DeleteReplicationConfiguration', to.region, {
    SourceFileSystemId: to.fileSystemId,
    DeletionMode: 'LOCAL_CONFIGURATION_ONLY',
  });
  return {
    id: 'repair-replication',
    title: `Remove a replication left on ${to.fileSystemId} by an earlier disaster switch`,
    why: `After a disaster failover ${to.region} may still list itself as the source of a replication whose destination no longer has it; it would refuse the replication that brings the content back.`,
    calls: [describeReplicationCall(to), describeReplicationCall(from), deleteLeftover],
    verify: `${to.fileSystemId} is in no replication, or in one that ${from.region} also lists.`,
    ifFailed: `Nothing else changed. Delete the replication of ${to.fileSystemId} in ${to.region} in the console ("delete only in this region"), then run again.`,
    expected: { seconds: 5 * 60, basis: 'EFS: deleting a replication configuration takes several minutes' },
    async run(context) {
      const here = await readReplication(context, to);
      if (here === undefined) return `${to.fileSystemId} is in no replication (nothing to repair)`;
      if (here.source !== to.fileSystemId) {
        return `${to.fileSystemId} receives replication from ${here.source} (a live configuration, kept)`;
      }
      const there = await readReplication(context, from);
      if (there?.source === to.fileSystemId) {
        return `replication ${to.region} -> ${from.region} is listed on both sides (kept)`;
      }
      await sendCall(context.clients, deleteLeftover);
      return waitForReplicationDeleted(context, to, 'leftover');
    },
  };
}
