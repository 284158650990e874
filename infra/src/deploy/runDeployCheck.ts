import { ECRClient } from '@aws-sdk/client-ecr';
import { summarizeError } from '@ghost-ha/core';
import { TEMPLATE_NAMES, type TemplateName } from '../parseTemplate.js';
import { describeImagesWith, imagesInRegion } from './imagesInRegion.js';
import { templateBody } from './templateBody.js';

export interface DeployCheckIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The region's ECR client; a real one (the SDK's default credentials and endpoint) unless given. */
  readonly ecr?: (region: string) => ECRClient;
}

export const DEPLOY_CHECK_USAGE = `Usage: node infra/src/deploy/main.ts check-images --region REGION IMAGE...
  fails unless every IMAGE is pinned by digest in REGION's own ECR registry and found there
  (ecr:DescribeImages), e.g. check-images --region eu-central-1 123456789012.dkr.ecr.eu-central-1.amazonaws.com/ghost-ha/ghost@sha256:...
       node infra/src/deploy/main.ts template-body LAYER
  prints the layer's template as compact JSON (what CloudFormation reads from it, without comments),
  e.g. template-body app`;

/** The check scripts/deploy.sh makes with the SDK before an app stack. Exit codes: 0 found, 1 not, 2 usage. */
export async function runDeployCheck(argv: readonly string[], io: DeployCheckIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'template-body') {
    const [layer] = rest;
    if (rest.length !== 1 || !TEMPLATE_NAMES.includes(layer as TemplateName)) {
      io.err(`template-body needs one of ${TEMPLATE_NAMES.join(', ')}.\n${DEPLOY_CHECK_USAGE}\n`);
      return 2;
    }
    io.out(templateBody(layer as TemplateName));
    return 0;
  }
  if (command !== 'check-images') {
    io.err(`Unknown command '${command ?? ''}'.\n${DEPLOY_CHECK_USAGE}\n`);
    return 2;
  }
  let region: string | undefined;
  const images: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    if (word === '--region') {
      region = rest[++i];
    } else if (word.startsWith('-')) {
      io.err(`Unknown option '${word}'.\n${DEPLOY_CHECK_USAGE}\n`);
      return 2;
    } else images.push(word);
  }
  if (!region || images.length === 0) {
    io.err(`check-images needs --region and at least one image.\n${DEPLOY_CHECK_USAGE}\n`);
    return 2;
  }
  const ecr = io.ecr?.(region) ?? new ECRClient({ region });
  try {
    const problems = await imagesInRegion(describeImagesWith(ecr), region, images);
    for (const { image, problem } of problems) io.err(`${image}: ${problem}\n`);
    if (problems.length > 0) {
      io.err(
        `${region}'s task could not start from its own registry. Push the images there (scripts/package.sh --registry <account>.dkr.ecr.${region}.amazonaws.com ...) ` +
          `or wait for the registry stack's replication into ${region}, then deploy again.\n`,
      );
      return 1;
    }
    io.out(`${images.length} image(s) found in ${region}'s registry\n`);
    return 0;
  } catch (error) {
    io.err(`Could not check the images in ${region}: ${summarizeError(error).message}\n`);
    return 1;
  } finally {
    if (!io.ecr) ecr.destroy();
  }
}
