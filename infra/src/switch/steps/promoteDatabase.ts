import { awsCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeGlobalCall, readGlobalCluster } from '../reads/readGlobalCluster.js';
import type { Mode } from '../SwitchRequest.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** Makes the target region's Aurora cluster the global writer: switchover (planned) or failover (disaster). */
export function promoteDatabase(deployment: Deployment, from: RegionSite, to: RegionSite, mode: Mode): SwitchStep {
  const target = { GlobalClusterIdentifier: deployment.globalClusterId, TargetDbClusterIdentifier: to.clusterArn };
  const call =
    mode === 'planned'
      ? awsCall('rds:SwitchoverGlobalCluster', to.region, target)
      : awsCall('rds:FailoverGlobalCluster', to.region, { ...target, AllowDataLoss: true });
  return {
    id: 'promote-database',
    title:
      mode === 'planned'
        ? `Switch the Aurora global database's writer to ${to.region} (switchover, no data loss)`
        : `Fail the Aurora global database over to ${to.region} (allowing the loss of unreplicated writes)`,
    why:
      mode === 'planned'
        ? 'A switchover waits for the secondary to catch up and keeps both clusters in the global database.'
        : 'The primary region is down: the secondary becomes the writer with what it has (lag is typically under a second).',
    calls: [call, describeGlobalCall(deployment, to.region)],
    verify: `${to.clusterArn} is the writer, the global database is available and no failover is in progress.`,
    ifFailed:
      mode === 'planned'
        ? `Read the global database's events. Ghost is stopped in ${from.region}: run again, or serve from there again with 'aws ecs update-service --region ${from.region} --cluster ${from.ecsCluster} --service ${from.invalidatorService} --desired-count 1', then the same for --service ${from.ecsService}.`
        : `Read the global database's events in ${to.region} and run again. If the cluster cannot be promoted at all, detach it ('aws rds remove-from-global-cluster --region ${to.region} --global-cluster-identifier ${deployment.globalClusterId} --db-cluster-identifier ${to.clusterArn}', it becomes a standalone writer) and make the remaining calls of this plan by hand, in order.`,
    expected:
      mode === 'planned'
        ? {
            seconds: 5 * 60,
            basis: 'Aurora Global Database: RTO in the order of minutes; a switchover first synchronises the secondary',
          }
        : { seconds: 60, basis: 'Aurora Global Database: a secondary is promoted to read-write in under a minute' },
    async run(context) {
      const before = await readGlobalCluster(context, deployment, to.region);
      if (before.writer !== to.clusterArn) await sendCall(context.clients, call);
      return poll(
        `${to.region} to become the global writer`,
        20 * MINUTE,
        context.pacing,
        async () => {
          const s = await readGlobalCluster(context, deployment, to.region);
          if (s.failover === 'cancelling') {
            // Aurora gave up (a member stopped answering, or the checks it makes first failed) and
            // returns both clusters to their roles: waiting would only wait for the old writer.
            throw new Error(
              `Aurora is cancelling the ${mode === 'planned' ? 'switchover' : 'failover'} (status ${s.status}); ${s.writer ?? 'the old writer'} stays the writer`,
            );
          }
          return {
            done: s.writer === to.clusterArn && s.status === 'available' && s.failover === undefined,
            state: `status ${s.status}, writer ${s.writer ?? 'none'}${s.failover ? `, failover ${s.failover}` : ''}`,
          };
        },
        context.progress,
      );
    },
  };
}
