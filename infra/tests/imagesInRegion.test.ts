// @module-tag integration
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeImagesWith, imagesInRegion, parseEcrImage } from '../src/deploy/imagesInRegion.js';
import { serviceImages, serviceReadsWith } from '../src/deploy/serviceImages.js';

const PRIMARY = 'eu-west-1';
const SECONDARY = 'eu-central-1';
const registry = (region: string) => `123456789012.dkr.ecr.${region}.amazonaws.com`;

describe('imagesInRegion (ecr:DescribeImages against moto)', () => {
  let moto: MotoServer | undefined;
  let restoreEnv: (() => void) | undefined;
  let digest = '';
  const clients: ECRClient[] = [];
  const ecrClient = (region: string) => {
    const client = new ECRClient({ region });
    clients.push(client);
    return client;
  };
  const ecr = (region: string) => describeImagesWith(ecrClient(region));

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    // Pushed to the primary's registry only: replication into the secondary has not happened.
    const primary = ecrClient(PRIMARY);
    await primary.send(new CreateRepositoryCommand({ repositoryName: 'ghost-ha/ghost' }));
    await ecrClient(SECONDARY).send(new CreateRepositoryCommand({ repositoryName: 'ghost-ha/ghost' }));
    const { image } = await primary.send(
      new PutImageCommand({
        repositoryName: 'ghost-ha/ghost',
        imageTag: 'v1',
        imageManifest: JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          layers: [],
        }),
      }),
    );
    digest = image?.imageId?.imageDigest ?? '';
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    restoreEnv?.();
    await moto?.destroy();
  });

  it("finds a digest in the region's own registry", async () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await imagesInRegion(ecr(PRIMARY), PRIMARY, [`${registry(PRIMARY)}/ghost-ha/ghost@${digest}`])).toEqual([]);
  });

  it('reports a digest its registry does not hold, one in another region, and a tag', async () => {
    const missing = `${registry(SECONDARY)}/ghost-ha/ghost@${digest}`;
    const elsewhere = `${registry(PRIMARY)}/ghost-ha/ghost@${digest}`;
    const tagged = `${registry(SECONDARY)}/ghost-ha/ghost:v1`;
    const problems = await imagesInRegion(ecr(SECONDARY), SECONDARY, [missing, elsewhere, tagged]);
    expect(problems.map((p) => p.image)).toEqual([elsewhere, tagged, missing]);
    expect(problems[0]?.problem).toContain(`in ${PRIMARY}'s registry, not ${SECONDARY}'s`);
    expect(problems[1]?.problem).toContain('pinned by digest');
    expect(problems[2]?.problem).toContain(`not found in ${SECONDARY}`);
  });

  it('parses only ECR images pinned by digest', () => {
    expect(parseEcrImage(`${registry(PRIMARY)}/ghost-ha/ghost@${'sha256:'}${'a'.repeat(64)}`)).toMatchObject({
      registryId: '123456789012',
      region: PRIMARY,
      repositoryName: 'ghost-ha/ghost',
    });
    expect(parseEcrImage(`ghost:6`)).toBeUndefined();
    expect(parseEcrImage(`evil.example/${registry(PRIMARY)}/x@sha256:${'a'.repeat(64)}`)).toBeUndefined();
  });

  it("checks what a service's task definition names (what a switch preflight asks of the target region)", async () => {
    const ecs = new ECSClient({ region: SECONDARY });
    try {
      await ecs.send(new CreateClusterCommand({ clusterName: 'ghost-ha' }));
      const image = `${registry(SECONDARY)}/ghost-ha/ghost@${digest}`;
      const sidecar = `${registry(PRIMARY)}/ghost-ha/health-sidecar@sha256:${'b'.repeat(64)}`;
      const { taskDefinition } = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'ghost-ha-ghost',
          containerDefinitions: [
            { name: 'ghost', image, memory: 512 },
            { name: 'health-sidecar', image: sidecar, memory: 128 },
          ],
        }),
      );
      await ecs.send(
        new CreateServiceCommand({
          cluster: 'ghost-ha',
          serviceName: 'ghost-ha-ghost',
          taskDefinition: taskDefinition?.taskDefinitionArn,
          desiredCount: 0,
        }),
      );
      const images = await serviceImages(serviceReadsWith(ecs), 'ghost-ha', 'ghost-ha-ghost');
      expect(images).toEqual([image, sidecar]);
      const problems = await imagesInRegion(ecr(SECONDARY), SECONDARY, images);
      expect(problems.map((p) => p.image)).toEqual([sidecar, image]);
    } finally {
      ecs.destroy();
    }
  });
});
