import {
  DescribeServicesCommand,
  type DescribeServicesCommandInput,
  type DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandInput,
  type DescribeTaskDefinitionCommandOutput,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { DiscoveryError } from '../errors.js';

/** The two ECS reads `serviceImages` makes: an ECS client's, or the switch's recorded calls. */
export interface ServiceReads {
  describeServices(input: DescribeServicesCommandInput): Promise<DescribeServicesCommandOutput>;
  describeTaskDefinition(input: DescribeTaskDefinitionCommandInput): Promise<DescribeTaskDefinitionCommandOutput>;
}

/** The reads through an ECS client of the region. */
export function serviceReadsWith(ecs: ECSClient): ServiceReads {
  return {
    describeServices: (input) => ecs.send(new DescribeServicesCommand(input)),
    describeTaskDefinition: (input) => ecs.send(new DescribeTaskDefinitionCommand(input)),
  };
}

/**
 * Every image the service's current task definition names (each container's `image`): what the
 * region must be able to pull before the service is started there. Pass them to `imagesInRegion`.
 */
export async function serviceImages(ecs: ServiceReads, cluster: string, service: string): Promise<string[]> {
  const servicesInput: DescribeServicesCommandInput = { cluster, services: [service] };
  const { services = [] } = await ecs.describeServices(servicesInput);
  const taskDefinition = services[0]?.taskDefinition;
  if (!taskDefinition)
    throw new DiscoveryError(
      `The ECS service ${service} in cluster ${cluster} was not found (or has no task definition)`,
    );
  const taskInput: DescribeTaskDefinitionCommandInput = { taskDefinition };
  const described = await ecs.describeTaskDefinition(taskInput);
  return (described.taskDefinition?.containerDefinitions ?? []).flatMap((container) =>
    container.image ? [container.image] : [],
  );
}
