// @module-tag ghost
import { CloudFrontClient, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BUCKET,
  type ContentTestBed,
  lambdaContext,
  SECRET_ID,
  SIGNING_SECRET_ID,
  siteOf,
  startContentTestBed,
} from '@ghost-ha/content/testing';
import { createDistribution } from '@ghost-ha/testbed';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHandler, type DeleteAllPostsHandler } from '../src/createHandler.js';
import { BulkDeleteMissingProxy } from './bulkDeleteMissingProxy.js';

describe('delete-all-posts: Ghost without bulk delete, time limit, CDN purge, S3 access denied', () => {
  let bed: ContentTestBed;
  let proxy: BulkDeleteMissingProxy;
  let proxySecretId: string;

  const handlerFor = (
    env: Record<string, string>,
    dependencies: { s3?: S3Client; cloudfront?: CloudFrontClient } = {},
  ): DeleteAllPostsHandler =>
    createHandler(
      loadConfig({
        GHOST_SECRET_ID: SECRET_ID,
        BACKUP_BUCKET: BUCKET,
        BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
        AWS_ENDPOINT_URL: bed.moto.endpoint,
        ...env,
      }),
      { logger: bed.logger, secretsManager: bed.secretsManager, ...dependencies },
    );

  beforeAll(async () => {
    bed = await startContentTestBed();
    proxy = await BulkDeleteMissingProxy.start(bed.ghost.url, { replayFirstDelete: true });
    proxySecretId = await bed.putSecret({ url: proxy.url, adminApiKey: bed.ghost.adminApiKey });
  });

  afterAll(async () => {
    await proxy?.close();
    await bed?.destroy();
  });

  it('reports an S3 AccessDenied on the backup as a clear error and deletes nothing', async () => {
    await bed.ghost.seedPosts(2, { titlePrefix: 'Guarded' });
    const s3 = new S3Client({ forcePathStyle: true });
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    mockClient(s3).on(PutObjectCommand).rejects(denied);
    const handler = handlerFor({}, { s3 });

    const error = await handler({ dryRun: false, confirmSite: siteOf(bed.ghost.url) }, lambdaContext()).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ name: 'BackupError' });
    expect(String(error)).toMatch(/AccessDenied: access denied; grant this role s3:PutObject.*Nothing was deleted/);
    expect(await bed.ghost.admin.count('posts')).toBe(2);
  });

  it('purges /* on CloudFront itself when given a distribution id', async () => {
    const cloudfront = new CloudFrontClient({});
    const distributionId = await createDistribution(cloudfront, 'delete-all-posts-test');
    const handler = handlerFor({ CLOUDFRONT_DISTRIBUTION_ID: distributionId }, { cloudfront });

    const result = await handler({ dryRun: false, confirmSite: siteOf(bed.ghost.url) }, lambdaContext());

    expect(result).toMatchObject({ deleted: 2, remaining: 0, method: 'bulk' });
    expect(result.cdnPurge).toMatchObject({ via: 'cloudfront-invalidation', invalidationId: expect.any(String) });
    const listed = await cloudfront.send(new ListInvalidationsCommand({ DistributionId: distributionId }));
    expect(listed.InvalidationList?.Items?.map((item) => item.Id)).toContain(result.cdnPurge.invalidationId);
  });

  it('deletes one by one where Ghost has no bulk delete, stops before the time runs out and continues', async () => {
    await bed.ghost.seedPosts(8, { titlePrefix: 'Old Ghost' });
    const handler = handlerFor({ GHOST_SECRET_ID: proxySecretId, FALLBACK_CONCURRENCY: '2', TIME_MARGIN_MS: '5000' });
    // The time left drops below the margin once three single deletes have been sent.
    const context = lambdaContext(() => (proxy.singleDeletes >= 3 ? 4_000 : 60_000));

    const first = await handler({ dryRun: false, confirmSite: siteOf(proxy.url) }, context);

    expect(first).toMatchObject({ matched: 8, backedUp: 8, method: 'one-by-one', done: false });
    expect(first.deleted).toBeGreaterThanOrEqual(3);
    expect(first.deleted).toBeLessThan(8);
    expect(first.remaining).toBe(8 - first.deleted);
    // The replayed first delete came back 404 from Ghost: counted as done, not as an error.
    expect(first.errors).toEqual([]);
    expect(first.cdnPurge.detail).toMatch(/post\.deleted/);
    expect(first.continuation).toEqual({ dryRun: false, confirmSite: siteOf(proxy.url), filter: expect.any(String) });
    expect(await bed.ghost.admin.count('posts')).toBe(first.remaining);

    const second = await handler(first.continuation, lambdaContext());

    expect(second).toMatchObject({ matched: first.remaining, backedUp: first.remaining, remaining: 0, done: true });
    expect(second.deleted).toBe(first.remaining);
    expect(second.backup).not.toBe(first.backup);
    expect(await bed.ghost.admin.count('posts')).toBe(0);
  });
});
