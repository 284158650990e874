import {
  DescribeGlobalClustersCommand,
  type DescribeGlobalClustersCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { summarizeError } from '@ghost-ha/core';
import { DeployReadError } from './DeployReadError.js';

/** Where the Aurora global database writes, read from AWS: the region Ghost must run in. */
export type WriterReading =
  | { readonly kind: 'writer'; readonly region: string; readonly clusterArn: string }
  /** No global database yet: a first deployment. */
  | { readonly kind: 'absent' }
  /** It exists but names no writer (a switchover or failover is under way). */
  | { readonly kind: 'no-writer'; readonly status: string };

/**
 * Reads the global database's writer (`IsWriter`) with `rds:DescribeGlobalClusters`, asking each
 * region in turn until one answers (in a disaster the old primary's endpoint may not). The writer's
 * region is the fourth field of its cluster ARN.
 */
export async function readWriterRegion(
  rds: (region: string) => RDSClient,
  globalClusterId: string,
  regions: readonly string[],
): Promise<WriterReading> {
  const failures: string[] = [];
  for (const region of regions) {
    const input: DescribeGlobalClustersCommandInput = { GlobalClusterIdentifier: globalClusterId };
    try {
      const { GlobalClusters = [] } = await rds(region).send(new DescribeGlobalClustersCommand(input));
      const cluster = GlobalClusters[0];
      if (!cluster) return { kind: 'absent' };
      const writer = cluster.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn;
      const writerRegion = writer?.split(':')[3];
      if (!writer || !writerRegion) return { kind: 'no-writer', status: cluster.Status ?? 'unknown' };
      return { kind: 'writer', region: writerRegion, clusterArn: writer };
    } catch (error) {
      if ((error as Error).name === 'GlobalClusterNotFoundFault') return { kind: 'absent' };
      failures.push(`${region}: ${summarizeError(error).message}`);
    }
  }
  throw new DeployReadError(
    `Could not read the global database '${globalClusterId}' in ${regions.join(' or ')} (${failures.join('; ')}). ` +
      'Check the credentials (rds:DescribeGlobalClusters) and the regions; nothing was deployed.',
  );
}
