// @module-tag integration
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotoServer } from '../src/MotoServer.js';

describe("moto S3 conditional writes (the test bed's launcher makes them atomic)", () => {
  let moto: MotoServer;
  let s3: S3Client;
  let restoreEnv: () => void;

  beforeAll(async () => {
    moto = await MotoServer.start({ extended: true });
    restoreEnv = moto.useInThisProcess();
    s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'leases' }));
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  // The restore lease relies on this: S3 lets exactly one of several simultaneous writers create a key.
  it('lets exactly one of many simultaneous If-None-Match: * writes create an object, as S3 does', async () => {
    for (let round = 0; round < 5; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          s3.send(
            new PutObjectCommand({ Bucket: 'leases', Key: `lease-${round}`, Body: `writer ${i}`, IfNoneMatch: '*' }),
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ $metadata: { httpStatusCode: 412 } });
      }
    }
  });
});
