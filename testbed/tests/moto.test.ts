// @module-tag integration
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
} from '@aws-sdk/client-cloudfront';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDistribution } from '../src/cloudFrontInMoto.js';
import { MotoServer } from '../src/MotoServer.js';

describe('MotoServer (moto_server from PyPI)', () => {
  let moto: MotoServer;
  let restoreEnv: () => void;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  it('serves CloudFront to an SDK client configured only by AWS_ENDPOINT_URL', async () => {
    const cloudfront = new CloudFrontClient({});
    // The client has no endpoint of its own: the SDK must take AWS_ENDPOINT_URL from the environment.
    const distributionId = await createDistribution(cloudfront, 'testbed');
    expect(distributionId).not.toBe('');

    const invalidation = await cloudfront.send(
      new CreateInvalidationCommand({
        DistributionId: distributionId,
        InvalidationBatch: { CallerReference: 'batch-1', Paths: { Quantity: 2, Items: ['/', '/my-post/'] } },
      }),
    );
    const read = await cloudfront.send(
      new GetInvalidationCommand({ DistributionId: distributionId, Id: invalidation.Invalidation?.Id ?? '' }),
    );
    expect(read.Invalidation?.InvalidationBatch?.Paths?.Items).toEqual(['/', '/my-post/']);
    const list = await cloudfront.send(new ListInvalidationsCommand({ DistributionId: distributionId }));
    expect(list.InvalidationList?.Quantity).toBe(1);
  });

  it('serves S3', async () => {
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'testbed-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'testbed-bucket', Key: 'a.json', Body: '{"a":1}' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: 'testbed-bucket', Key: 'a.json' }));
    expect(await object.Body?.transformToString()).toBe('{"a":1}');
  });
});
