import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

export function describeFileSystemCall(site: RegionSite): AwsCallOf<'efs:DescribeFileSystems'> {
  return awsCall('efs:DescribeFileSystems', site.region, { FileSystemId: site.fileSystemId }, true);
}

/**
 * The file system's replication overwrite protection: ENABLED (writable), DISABLED (read-only, may
 * become a replication destination) or REPLICATING (a destination, read-only); EFS API reference,
 * API_UpdateFileSystemProtection.html.
 */
export async function readProtection(context: StepContext, site: RegionSite): Promise<string> {
  const { FileSystems = [] } = await sendCall(context.clients, describeFileSystemCall(site));
  return FileSystems[0]?.FileSystemProtection?.ReplicationOverwriteProtection ?? 'unknown';
}
