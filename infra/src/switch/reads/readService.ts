import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** DescribeServices of Ghost's service, or of another of the site's services (the cache-invalidator's). */
export function describeServiceCall(
  site: RegionSite,
  service: string = site.ecsService,
): AwsCallOf<'ecs:DescribeServices'> {
  return awsCall('ecs:DescribeServices', site.region, { cluster: site.ecsCluster, services: [service] }, true);
}

export interface ServiceView {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly deployments: number;
  readonly rollout: string | undefined;
  readonly targetGroupArn: string | undefined;
}

/** The ECS service's counts and its primary deployment's rollout state. */
export async function readService(
  context: StepContext,
  site: RegionSite,
  name: string = site.ecsService,
): Promise<ServiceView> {
  const { services = [], failures = [] } = await sendCall(context.clients, describeServiceCall(site, name));
  const service = services[0];
  if (!service || service.status === 'INACTIVE') {
    const reason = failures[0]?.reason ?? 'not found';
    throw new Error(`ECS service ${site.ecsCluster}/${name} in ${site.region}: ${reason}`);
  }
  const primary = (service.deployments ?? []).find((d) => d.status === 'PRIMARY');
  return {
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    deployments: (service.deployments ?? []).length,
    rollout: primary?.rolloutState,
    targetGroupArn: service.loadBalancers?.[0]?.targetGroupArn,
  };
}
