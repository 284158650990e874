import { imagesInRegion } from '../../deploy/imagesInRegion.js';
import { type ServiceReads, serviceImages } from '../../deploy/serviceImages.js';
import { awsCall, type RuntimeCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

// An image in a registry of Amazon ECR (private registries: <account>.dkr.ecr.<region>.amazonaws.com).
const ECR_HOST = /^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\//;

/** The reads behind the check, completed at run time from the services' task definitions. */
export function targetImageCalls(to: RegionSite): RuntimeCall[] {
  return [
    {
      operation: 'ecs:DescribeTaskDefinition',
      region: to.region,
      known: {},
      atRunTime: "taskDefinition: Ghost's and the cache-invalidator's services' current task definitions",
      readOnly: true,
    },
    {
      operation: 'ecr:DescribeImages',
      region: to.region,
      known: {},
      atRunTime: `registryId, repositoryName, imageIds: each ECR image those task definitions name, by digest`,
      readOnly: true,
    },
  ];
}

/**
 * Proves that the target region can pull every image its Ghost and cache-invalidator tasks name
 * from its own registry (ecr:DescribeImages finds each digest there). An image in the source
 * region's registry cannot be pulled while that region is down; a digest whose replication has not
 * arrived makes the task fail at "start Ghost", after Ghost was stopped in the source. An image of
 * another registry (Docker Hub's ghost:6) cannot be checked with ECR: it is named in the result.
 * Throws, naming each missing image and what to do, when one cannot be pulled.
 */
export async function checkTargetImages(context: StepContext, to: RegionSite): Promise<string> {
  const reads: ServiceReads = {
    describeServices: (input) => sendCall(context.clients, awsCall('ecs:DescribeServices', to.region, input, true)),
    describeTaskDefinition: (input) =>
      sendCall(context.clients, awsCall('ecs:DescribeTaskDefinition', to.region, input, true)),
  };
  const images = new Set<string>();
  for (const service of [to.ecsService, to.invalidatorService]) {
    for (const image of await serviceImages(reads, to.ecsCluster, service)) images.add(image);
  }
  const fromEcr = [...images].filter((image) => ECR_HOST.test(image));
  const unchecked = [...images].filter((image) => !ECR_HOST.test(image));
  const problems = await imagesInRegion(
    (input) => sendCall(context.clients, awsCall('ecr:DescribeImages', to.region, input, true)),
    to.region,
    fromEcr,
  );
  if (problems.length > 0) {
    const registry = `<account>.dkr.ecr.${to.region}.amazonaws.com`;
    throw new Error(
      `${to.region}'s tasks name images its own registry does not hold: ${problems.map((p) => `${p.image} (${p.problem})`).join('; ')}. ` +
        `Nothing was changed. Push them to ${to.region} (scripts/package.sh --registry ${registry}) or let ECR replication into ${to.region} finish, ` +
        `deploy ${to.region}'s app stack so its task definitions name its own registry's digests, then run again.`,
    );
  }
  const checked = `${fromEcr.length} ECR image(s) found in ${to.region}'s registry`;
  return unchecked.length > 0
    ? `${checked}; not checked (not in ECR, cannot be proved with ecr:DescribeImages): ${unchecked.join(', ')}`
    : checked;
}
