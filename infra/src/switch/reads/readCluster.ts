import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

export function describeClusterCall(site: RegionSite): AwsCallOf<'rds:DescribeDBClusters'> {
  return awsCall('rds:DescribeDBClusters', site.region, { DBClusterIdentifier: site.clusterArn }, true);
}

export interface ClusterView {
  readonly status: string;
  readonly engineVersion: string | undefined;
  /** DB instances in the cluster: a cluster with none (headless) cannot be promoted. */
  readonly instances: number;
}

/** The site's Aurora cluster as its own region describes it: status, engine version, instances. */
export async function readCluster(context: StepContext, site: RegionSite): Promise<ClusterView> {
  const { DBClusters = [] } = await sendCall(context.clients, describeClusterCall(site));
  const cluster = DBClusters[0];
  if (!cluster) throw new Error(`The Aurora cluster ${site.clusterArn} was not found in ${site.region}`);
  return {
    status: cluster.Status ?? 'unknown',
    engineVersion: cluster.EngineVersion,
    instances: cluster.DBClusterMembers?.length ?? 0,
  };
}

/** `8.0.mysql_aurora.3.08.2` -> `8.0.mysql_aurora.3.08`: what a failover needs to match. */
export function withoutPatch(version: string): string {
  return version.replace(/\.[^.]*$/, '');
}
