import {
  DescribeServicesCommand,
  type DescribeServicesCommandInput,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandInput,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { DiscoveryError } from '../errors.js';

/**
 * Every image the service's current task definition names (each container's `image`): what the
 * region must be able to pull before the service is started there. Pass them to `imagesInRegion`.
 */
export async function serviceImages(ecs: ECSClient, cluster: string, service: string): Promise<string[]> {
  const servicesInput: DescribeServicesCommandInput = { cluster, services: [service] };
  const { services = [] } = await ecs.send(new DescribeServicesCommand(servicesInput));
  const taskDefinition = services[0]?.taskDefinition;
  if (!taskDefinition)
    throw new DiscoveryError(
      `The ECS service ${service} in cluster ${cluster} was not found (or has no task definition)`,
    );
  const taskInput: DescribeTaskDefinitionCommandInput = { taskDefinition };
  const described = await ecs.send(new DescribeTaskDefinitionCommand(taskInput));
  return (described.taskDefinition?.containerDefinitions ?? []).flatMap((container) =>
    container.image ? [container.image] : [],
  );
}
