import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { waitForReplicationDeleted } from '../reads/waitForReplicationDeleted.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * Ends the replication into the target's file system, which makes it writable. The call is made in
 * the destination's region and names the replication by its source file system (the API's
 * `SourceFileSystemId`); in a disaster only the local side can be deleted, the other side is
 * repaired by the next planned switch.
 */
export function makeContentWritable(from: RegionSite, to: RegionSite, disaster: boolean): SwitchStep {
  const deleteCall = (sourceFileSystemId: string) =>
    awsCall(
      'efs:DeleteReplicationConfiguration',
      to.region,
      disaster
        ? { SourceFileSystemId: sourceFileSystemId, DeletionMode: 'LOCAL_CONFIGURATION_ONLY' }
        : { SourceFileSystemId: sourceFileSystemId },
    );
  return {
    id: 'make-content-writable',
    title: `Remove EFS replication ${from.region} -> ${to.region} so ${to.fileSystemId} becomes writable`,
    why: 'A replication destination is read-only; Ghost needs to write uploads and themes.',
    calls: [deleteCall(from.fileSystemId), describeReplicationCall(to)],
    verify: `${to.fileSystemId} takes part in no replication any more (ReplicationNotFound).`,
    ifFailed: `Run again (deletion takes minutes). If it is stuck, delete it in the console from ${to.region} with "delete only in this region".`,
    expected: { seconds: 5 * 60, basis: 'EFS: deleting a replication configuration takes several minutes' },
    async run(context) {
      const before = await readReplication(context, to);
      if (before === undefined) return 'no replication (already writable)';
      if (before.source === to.fileSystemId) return `already the source (replicating to ${before.destination?.Region})`;
      // The source as the destination's region records it: in a disaster the other region's id may be unknown.
      if (before.destination?.Status !== 'DELETING') {
        await sendCall(context.clients, deleteCall(before.source ?? from.fileSystemId));
      }
      return waitForReplicationDeleted(context, to);
    },
  };
}
