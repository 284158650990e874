import { DescribeFileSystemsCommand } from '@aws-sdk/client-efs';
import { DescribeGlobalClustersCommand } from '@aws-sdk/client-rds';
import { summarizeError } from '@ghost-ha/core';
import { DiscoveryError } from '../errors.js';
import type { AwsClients } from './AwsClients.js';
import { type Deployment, regionalAlarmNames, siteNames } from './Deployment.js';
import type { SwitchRequest } from './SwitchRequest.js';

/**
 * Completes the request's identifiers: Aurora cluster ARNs from the global database's members, EFS
 * file systems by their Name tag (<project>-content). Read-only calls; given identifiers are kept,
 * so a request with all of them never calls AWS.
 */
export async function discoverDeployment(request: SwitchRequest, clients: AwsClients): Promise<Deployment> {
  const { project, primaryRegion, secondaryRegion } = request;
  let members: string[] | undefined;
  const clusterArn = async (region: string, given: string | undefined): Promise<string> => {
    if (given) return given;
    members ??= await globalMembers(request, clients);
    const found = members.find((arn) => arn.split(':')[3] === region);
    if (!found) {
      throw new DiscoveryError(
        `The global database '${request.globalClusterId}' has no member cluster in ${region} (members: ${members.join(', ') || 'none'}). ` +
          `Deploy that region's data stack, or pass --${region === primaryRegion ? 'primary' : 'secondary'}-cluster-arn.`,
      );
    }
    return found;
  };
  const fileSystemId = async (region: string, given: string | undefined): Promise<string> => {
    if (given) return given;
    const name = `${project}-content`;
    let systems: { FileSystemId?: string; Name?: string }[];
    try {
      systems = (await clients.efs(region).send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
    } catch (error) {
      throw new DiscoveryError(
        `Could not list EFS file systems in ${region} (${summarizeError(error).message}); pass --${region === primaryRegion ? 'primary' : 'secondary'}-file-system.`,
        { cause: error },
      );
    }
    const matching = systems.filter((fs) => fs.Name === name);
    if (matching.length !== 1 || !matching[0]?.FileSystemId) {
      throw new DiscoveryError(
        `Expected one EFS file system named '${name}' in ${region}, found ${matching.length}; pass --${region === primaryRegion ? 'primary' : 'secondary'}-file-system.`,
      );
    }
    return matching[0].FileSystemId;
  };
  // In a disaster the region being left may not answer; its file system is only needed again when
  // the pilot light is restored, so an unknown id there does not stop the switch.
  const leaving = request.direction === 'failover' ? primaryRegion : secondaryRegion;
  const site = async (region: string, arn: string | undefined, fs: string | undefined) => ({
    region,
    clusterArn: await clusterArn(region, arn),
    fileSystemId:
      request.mode === 'disaster' && region === leaving
        ? await fileSystemId(region, fs).catch(() => `<file system in ${region}: not reachable>`)
        : await fileSystemId(region, fs),
    ...siteNames(project, region),
  });
  return {
    project,
    globalClusterId: request.globalClusterId,
    distributionId: request.distributionId,
    primary: await site(primaryRegion, request.primaryClusterArn, request.primaryFileSystemId),
    secondary: await site(secondaryRegion, request.secondaryClusterArn, request.secondaryFileSystemId),
    regionalAlarmNames: regionalAlarmNames(project),
  };
}

async function globalMembers(request: SwitchRequest, clients: AwsClients): Promise<string[]> {
  // Asked in the region that must keep working in a disaster: the one being switched to.
  const region = request.direction === 'failover' ? request.secondaryRegion : request.primaryRegion;
  try {
    const { GlobalClusters = [] } = await clients
      .rds(region)
      .send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: request.globalClusterId }));
    return (GlobalClusters[0]?.GlobalClusterMembers ?? []).flatMap((m) => (m.DBClusterArn ? [m.DBClusterArn] : []));
  } catch (error) {
    throw new DiscoveryError(
      `Could not read the global database '${request.globalClusterId}' in ${region} (${summarizeError(error).message}); ` +
        'check --global-cluster and the credentials, or pass --primary-cluster-arn and --secondary-cluster-arn.',
      { cause: error },
    );
  }
}
