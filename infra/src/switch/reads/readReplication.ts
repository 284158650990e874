import type { Destination } from '@aws-sdk/client-efs';
import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

export function describeReplicationCall(site: RegionSite): AwsCallOf<'efs:DescribeReplicationConfigurations'> {
  return awsCall('efs:DescribeReplicationConfigurations', site.region, { FileSystemId: site.fileSystemId }, true);
}

export interface ReplicationView {
  readonly source: string | undefined;
  readonly sourceRegion: string | undefined;
  readonly destination: Destination | undefined;
}

/** The replication the site's file system takes part in, as its own region sees it; undefined when none. */
export async function readReplication(context: StepContext, site: RegionSite): Promise<ReplicationView | undefined> {
  try {
    const { Replications = [] } = await sendCall(context.clients, describeReplicationCall(site));
    const [replication] = Replications;
    if (!replication) return undefined;
    return {
      source: replication.SourceFileSystemId,
      sourceRegion: replication.SourceFileSystemRegion,
      destination: replication.Destinations?.[0],
    };
  } catch (error) {
    if ((error as Error).name === 'ReplicationNotFound') return undefined;
    throw error;
  }
}
