import { awsCall } from '../AwsCall.js';
import { activateOrigin, isOriginActive } from '../activateOrigin.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { getDistributionConfigCall } from '../reads/getDistributionConfigCall.js';
import { describeFileSystemCall, readProtection } from '../reads/readProtection.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import { waitForReplicationDeleted } from '../reads/waitForReplicationDeleted.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';
import { updateDistributionCall, updateDistributionPlanned } from './switchCloudFront.js';

/**
 * "When the old region returns": after a disaster switch the lost region may come back with its
 * service still at desired 1 (ECS would start a second Ghost there) and its alarms notifying. This
 * step keeps its service at 0, silences its alarms and checks that CloudFront sends it no writes.
 * Its file system holds uploads that exist only there: it is made read-only until they are
 * salvaged (replication overwrite protection DISABLED: "the file system is read-only", EFS API
 * reference, API_UpdateFileSystemProtection.html). EFS refuses to change the protection of a file
 * system in a replication (ReplicationAlreadyExists), so the side of the old replication the
 * disaster left there is deleted first (a configuration only; no data changes).
 * It fails while the region is down; running the same command again once it answers completes it.
 */
export function fenceOldRegion(deployment: Deployment, from: RegionSite, to: RegionSite): SwitchStep {
  const stop = awsCall('ecs:UpdateService', from.region, {
    cluster: from.ecsCluster,
    service: from.ecsService,
    desiredCount: 0,
  });
  const stopInvalidator = awsCall('ecs:UpdateService', from.region, {
    cluster: from.ecsCluster,
    service: from.invalidatorService,
    desiredCount: 0,
  });
  const silence = awsCall('cloudwatch:DisableAlarmActions', from.region, {
    AlarmNames: [...deployment.regionalAlarmNames],
  });
  const deleteLeftover = awsCall('efs:DeleteReplicationConfiguration', from.region, {
    SourceFileSystemId: from.fileSystemId,
    DeletionMode: 'LOCAL_CONFIGURATION_ONLY',
  });
  const readOnly = awsCall('efs:UpdateFileSystemProtection', from.region, {
    FileSystemId: from.fileSystemId,
    ReplicationOverwriteProtection: 'DISABLED',
  });
  return {
    id: `fence-${from.region}`,
    title: `When ${from.region} returns: keep its Ghost and its cache-invalidator at 0 and its origin out of the write path`,
    why: `A region that comes back would run its services' desired tasks: a second Ghost, on a database that is no longer the writer and content that is no longer replicated, and a second writer of the static mirror.`,
    calls: [
      stop,
      describeServiceCall(from),
      stopInvalidator,
      describeServiceCall(from, from.invalidatorService),
      silence,
      describeReplicationCall(from),
      describeReplicationCall(to),
      deleteLeftover,
      describeFileSystemCall(from),
      readOnly,
      getDistributionConfigCall(deployment),
      {
        ...updateDistributionPlanned(deployment, from, to),
        atRunTime: 'only if the config routes to the old region again',
      },
    ],
    verify: `${from.region}'s two services have desired and running 0, its alarms are silent, ${from.fileSystemId} is read-only (protection DISABLED or REPLICATING) until salvaged, and no CloudFront behavior targets ${from.originId} alone.`,
    ifFailed: `${from.region} does not answer yet. When it does, run this same command again: the finished steps are skipped and this one fences it. Until then CloudFront sends it no writes.`,
    expected: { seconds: 120, basis: 'ECS stopTimeout (at most 120 s on Fargate)' },
    bestEffort: true,
    async run(context) {
      const before = await readService(context, from);
      if (before.desired !== 0) await sendCall(context.clients, stop);
      const invalidatorBefore = await readService(context, from, from.invalidatorService);
      if (invalidatorBefore.desired !== 0) await sendCall(context.clients, stopInvalidator);
      await sendCall(context.clients, silence);
      const state = await poll(
        `Ghost and the cache-invalidator to stay stopped in ${from.region}`,
        10 * MINUTE,
        context.pacing,
        async () => {
          const s = await readService(context, from);
          const i = await readService(context, from, from.invalidatorService);
          return {
            done: s.running === 0 && s.pending === 0 && i.running === 0 && i.pending === 0,
            state: `desired ${s.desired}, running ${s.running}; cache-invalidator desired ${i.desired}, running ${i.running}`,
          };
        },
        context.progress,
      );
      const content = await makeReadOnly();
      const current = await sendCall(context.clients, getDistributionConfigCall(deployment));
      const config = current.DistributionConfig;
      if (config && current.ETag && !isOriginActive(config, to.originId, from.originId)) {
        // Someone re-deployed the edge stack with the old order: route it back to the active region.
        await sendCall(
          context.clients,
          updateDistributionCall(deployment, current.ETag, activateOrigin(config, to.originId, from.originId)),
        );
        return `${state}; ${content}; CloudFront routed to ${to.originId} again`;
      }
      return `${state} (was desired ${before.desired}); ${content}; CloudFront sends it no writes`;

      async function makeReadOnly(): Promise<string> {
        const here = await readReplication(context, from);
        if (here !== undefined && here.source !== from.fileSystemId) {
          return `${from.fileSystemId} is a replication destination (read-only)`;
        }
        let note = '';
        if (here !== undefined) {
          const there = await readReplication(context, to);
          if (there?.source === from.fileSystemId) return `${from.fileSystemId} replicates to ${to.region} (kept)`;
          await sendCall(context.clients, deleteLeftover);
          await waitForReplicationDeleted(context, from, 'leftover');
          note = 'leftover replication deleted, ';
        }
        const protection = await readProtection(context, from);
        if (protection === 'ENABLED') await sendCall(context.clients, readOnly);
        return `${note}${from.fileSystemId} read-only until salvaged (protection DISABLED${protection === 'ENABLED' ? '' : ', already'})`;
      }
    },
  };
}
