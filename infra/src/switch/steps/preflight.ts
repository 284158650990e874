import type { PlannedCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { getDistributionConfigCall } from '../reads/getDistributionConfigCall.js';
import { describeClusterCall, readCluster, withoutPatch } from '../reads/readCluster.js';
import { describeGlobalCall, type GlobalClusterView, readGlobalCluster } from '../reads/readGlobalCluster.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import type { Direction, Mode } from '../SwitchRequest.js';
import type { StepContext, SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';
import { checkTargetImages, targetImageCalls } from './checkTargetImages.js';

/**
 * Read-only checks that every part exists and the target can take over, before anything stops:
 * Aurora refuses to promote a cluster that is still being rebuilt (SynchronizationStatus
 * pending-resync), has no DB instance, or runs another engine version (a switchover needs the same
 * version, a failover the same major and minor version; Aurora user guide,
 * aurora-global-database-disaster-recovery.html). Found here, the refusal costs nothing; found by
 * the promote step, Ghost would already be stopped.
 */
export function preflight(
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
  direction: Direction,
  mode: Mode,
): SwitchStep {
  const calls: PlannedCall[] = [
    describeGlobalCall(deployment, to.region),
    describeClusterCall(to),
    describeReplicationCall(to),
    describeServiceCall(to),
    describeServiceCall(to, to.invalidatorService),
    ...targetImageCalls(to),
    getDistributionConfigCall(deployment),
  ];
  if (mode === 'planned') calls.push(describeClusterCall(from), describeServiceCall(from));
  const checksReplication = direction === 'failover' && mode === 'planned';
  return {
    id: 'preflight',
    title: 'Check the deployment (read only)',
    why: 'Stop before changing anything if a part is missing or the target is not ready to take over.',
    calls,
    verify: `${to.region}'s cluster is a member of ${deployment.globalClusterId}, connected (not pending-resync), has a DB instance and runs ${mode === 'planned' ? `the same engine version as ${from.region}'s` : "the global database's major and minor engine version"}; no other switchover or failover runs;${checksReplication ? ` ${to.fileSystemId} is the destination of ${from.region}'s replication, ENABLED, with a finished copy;` : ''} its ECS services (Ghost's and the cache-invalidator's) exist and every ECR image their task definitions name is in ${to.region}'s own registry (ecr:DescribeImages); the distribution has origins ${from.originId} and ${to.originId}${mode === 'planned' ? `; ${from.region}'s service answers` : ''}.`,
    ifFailed:
      "Nothing was changed. Fix what the message names (deploy the missing stack, push the missing image to the target region's registry, pass the right identifiers), then run again.",
    expected: { seconds: 10, basis: 'read-only API calls' },
    async run(context) {
      const global = await readGlobalCluster(context, deployment, to.region);
      if (!global.members.includes(to.clusterArn)) {
        throw new Error(
          `${to.clusterArn} is not a member of the global database (members: ${global.members.join(', ') || 'none'}). ` +
            'Re-create it from its data stack so it joins the global database, then run again.',
        );
      }
      await checkPromotable(context, global, from, to, mode);
      if (checksReplication && global.writer !== to.clusterArn) {
        const replication = await readReplication(context, to);
        if (replication?.source === undefined || replication.destination?.FileSystemId !== to.fileSystemId) {
          throw new Error(
            `${to.fileSystemId} in ${to.region} receives no replication: its content is not a copy of ${from.region}'s. ` +
              'Deploy the primary data stack with ReplicaFileSystemId set, wait for the first sync, then run again.',
          );
        }
        const status = replication.destination.Status;
        if (status !== 'ENABLED' || replication.destination.LastReplicatedTimestamp === undefined) {
          // PAUSING, PAUSED, ERROR: nothing reaches the target, so the sync step would wait after
          // Ghost stopped until it timed out; ENABLING: the first copy has not finished.
          throw new Error(
            `The replication into ${to.fileSystemId} is ${status ?? 'unknown'}${replication.destination.StatusMessage ? ` (${replication.destination.StatusMessage})` : ''}, not ENABLED with a finished copy: ` +
              `the content written in ${from.region} would not reach ${to.region}. Nothing was changed. Resolve it (the replication's status message names the cause), or use --mode disaster to accept losing the content since ${replication.destination.LastReplicatedTimestamp?.toISOString() ?? 'the start'}.`,
          );
        }
      }
      await readService(context, to);
      await readService(context, to, to.invalidatorService);
      const images = await checkTargetImages(context, to);
      if (mode === 'planned') await readService(context, from);
      const { DistributionConfig: config } = await sendCall(context.clients, getDistributionConfigCall(deployment));
      const origins = (config?.Origins?.Items ?? []).map((o) => o.Id);
      for (const id of [from.originId, to.originId]) {
        if (!origins.includes(id)) {
          throw new Error(
            `Distribution ${deployment.distributionId} has no origin '${id}' (has: ${origins.join(', ')})`,
          );
        }
      }
      const writer = global.writer === to.clusterArn ? `${to.region} (already)` : (global.writer ?? 'none');
      return `global database ${global.status}, writer ${writer}; ${images}`;
    },
  };
}

async function checkPromotable(
  context: StepContext,
  global: GlobalClusterView,
  from: RegionSite,
  to: RegionSite,
  mode: Mode,
): Promise<void> {
  if (global.failover !== undefined && global.failoverTo !== to.clusterArn) {
    throw new Error(
      `The global database is ${global.status} (failover state ${global.failover}, to ${global.failoverTo ?? 'unknown'}). ` +
        'Wait until it is available (DescribeGlobalClusters shows no FailoverState), then run again.',
    );
  }
  const target = await readCluster(context, to);
  if (target.instances === 0) {
    throw new Error(
      `${to.clusterArn} has no DB instance: Aurora cannot promote a headless cluster. ` +
        `Add an instance (deploy ${to.region}'s data stack), wait until it is available, then run again.`,
    );
  }
  if (global.writer === to.clusterArn) return;
  const sync = global.synchronization.get(to.clusterArn);
  // Optional in the API's shape: a member that reports none is not known to be rebuilding.
  if (sync !== undefined && sync !== 'connected') {
    throw new Error(
      `${to.clusterArn} is ${sync}, not connected: Aurora is still rebuilding it as a secondary after a failover ` +
        `(minutes to hours) and refuses to promote it. Nothing was changed; Ghost keeps running in ${from.region}. ` +
        `Wait until 'aws rds describe-global-clusters --region ${to.region}' shows it connected, then run again.`,
    );
  }
  if (mode === 'planned') {
    const source = await readCluster(context, from);
    if (target.engineVersion !== source.engineVersion) {
      throw new Error(
        `${to.region}'s cluster runs ${target.engineVersion}, ${from.region}'s ${source.engineVersion}: a switchover needs the same engine version. ` +
          "Upgrade the older cluster (the data stacks' EngineVersion), then run again.",
      );
    }
  } else if (
    target.engineVersion === undefined ||
    global.engineVersion === undefined ||
    withoutPatch(target.engineVersion) !== withoutPatch(global.engineVersion)
  ) {
    throw new Error(
      `${to.region}'s cluster runs ${target.engineVersion}, the global database ${global.engineVersion}: a failover needs the same major and minor version. ` +
        'Upgrade the target cluster first.',
    );
  }
}
