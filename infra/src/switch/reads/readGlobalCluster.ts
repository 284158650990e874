import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { Deployment } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

export function describeGlobalCall(deployment: Deployment, region: string): AwsCallOf<'rds:DescribeGlobalClusters'> {
  return awsCall('rds:DescribeGlobalClusters', region, { GlobalClusterIdentifier: deployment.globalClusterId }, true);
}

export interface GlobalClusterView {
  readonly status: string;
  /** FailoverState.Status while a switchover or failover runs: pending, switching-over, failing-over, cancelling. */
  readonly failover: string | undefined;
  /** The cluster a running switchover or failover promotes. */
  readonly failoverTo: string | undefined;
  readonly writer: string | undefined;
  readonly members: readonly string[];
  /** The global database's engine version (the primary's). */
  readonly engineVersion: string | undefined;
  /** Each member's SynchronizationStatus (connected, or pending-resync while it is rebuilt), where reported. */
  readonly synchronization: ReadonlyMap<string, string>;
}

/** The Aurora global database as seen from `region`: status, writer, members. */
export async function readGlobalCluster(
  context: StepContext,
  deployment: Deployment,
  region: string,
): Promise<GlobalClusterView> {
  const { GlobalClusters = [] } = await sendCall(context.clients, describeGlobalCall(deployment, region));
  const cluster = GlobalClusters[0];
  if (!cluster) throw new Error(`The global database '${deployment.globalClusterId}' was not found in ${region}`);
  const members = cluster.GlobalClusterMembers ?? [];
  return {
    status: cluster.Status ?? 'unknown',
    failover: cluster.FailoverState?.Status,
    failoverTo: cluster.FailoverState?.ToDbClusterArn,
    engineVersion: cluster.EngineVersion,
    synchronization: new Map(
      members.flatMap((m) =>
        m.DBClusterArn && m.SynchronizationStatus ? [[m.DBClusterArn, m.SynchronizationStatus] as const] : [],
      ),
    ),
    writer: members.find((m) => m.IsWriter)?.DBClusterArn,
    members: members.flatMap((m) => (m.DBClusterArn ? [m.DBClusterArn] : [])),
  };
}
