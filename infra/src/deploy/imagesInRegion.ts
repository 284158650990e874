import {
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  type DescribeImagesCommandOutput,
  type ECRClient,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { summarizeError } from '@ghost-ha/core';

/** An image pinned by digest in an Amazon ECR registry: `<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<hex>`. */
export interface EcrImage {
  readonly uri: string;
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
  readonly imageDigest: string;
}

// Registry host names: https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html
const ECR_IMAGE =
  /^(?<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?\/(?<repository>[a-z0-9][a-z0-9._/-]*)@(?<digest>sha256:[0-9a-f]{64})$/;

/** The parts of an ECR image pinned by digest, or undefined for anything else (a tag, another registry). */
export function parseEcrImage(uri: string): EcrImage | undefined {
  const groups = ECR_IMAGE.exec(uri)?.groups;
  if (!groups?.account || !groups.region || !groups.repository || !groups.digest) return undefined;
  return {
    uri,
    registryId: groups.account,
    region: groups.region,
    repositoryName: groups.repository,
    imageDigest: groups.digest,
  };
}

/** ecr:DescribeImages in one region: an ECR client's, or the switch's recorded call. */
export type DescribeImages = (input: DescribeImagesCommandInput) => Promise<DescribeImagesCommandOutput>;

/** DescribeImages through an ECR client of the region. */
export function describeImagesWith(ecr: ECRClient): DescribeImages {
  return (input) => ecr.send(new DescribeImagesCommand(input));
}

/** One image a region's task needs, and why that region could not start it from its own registry. */
export interface ImageProblem {
  readonly image: string;
  readonly problem: string;
}

/**
 * Proves that `region` can pull every image of its task from its own registry: each must be an ECR
 * image pinned by digest in that region's registry, and `ecr:DescribeImages` there must find the
 * digest (replication into the region may not have finished, or never been set up). An image in
 * another region's registry cannot be pulled when that region is down; a tag can move. Returns the
 * problems, none when the task can start. Read-only: usable by a deployment and a switch preflight.
 */
export async function imagesInRegion(
  describeImages: DescribeImages,
  region: string,
  images: readonly string[],
): Promise<ImageProblem[]> {
  const problems: ImageProblem[] = [];
  const byRepository = new Map<string, { registryId: string; repositoryName: string; images: EcrImage[] }>();
  for (const uri of images) {
    const image = parseEcrImage(uri);
    if (!image) {
      problems.push({
        image: uri,
        problem: `not an Amazon ECR image pinned by digest (<registry>/<repository>@sha256:...)`,
      });
      continue;
    }
    if (image.region !== region) {
      problems.push({
        image: uri,
        problem: `in ${image.region}'s registry, not ${region}'s: an outage of ${image.region} would stop ${region}'s task from starting`,
      });
      continue;
    }
    const key = `${image.registryId}/${image.repositoryName}`;
    const group = byRepository.get(key) ?? {
      registryId: image.registryId,
      repositoryName: image.repositoryName,
      images: [],
    };
    group.images.push(image);
    byRepository.set(key, group);
  }
  for (const group of byRepository.values()) {
    for (const image of group.images) {
      const input: DescribeImagesCommandInput = {
        registryId: group.registryId,
        repositoryName: group.repositoryName,
        imageIds: [{ imageDigest: image.imageDigest } satisfies ImageIdentifier],
      };
      try {
        const { imageDetails = [] } = await describeImages(input);
        if (!imageDetails.some((detail) => detail.imageDigest === image.imageDigest)) {
          problems.push({ image: image.uri, problem: `ecr:DescribeImages in ${region} does not list this digest` });
        }
      } catch (error) {
        // ImageNotFoundException, RepositoryNotFoundException: the digest is not there (yet).
        const { message } = summarizeError(error);
        problems.push({ image: image.uri, problem: `not found in ${region} (${(error as Error).name}: ${message})` });
      }
    }
  }
  return problems;
}
