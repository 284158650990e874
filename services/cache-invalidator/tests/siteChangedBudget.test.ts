// @module-tag integration
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { webhookOf } from './support/fixtures.js';
import { motoS3 } from './support/MirrorTestBed.js';
import { StreamingOrigin } from './support/StreamingOrigin.js';
import { startInvalidator } from './support/startInvalidator.js';

const SECRET = 'budget-test-secret';
const SAVES = 100;
const PERIOD_MS = 30_000;

/**
 * A staff user saving their profile again and again: Ghost fires a lone `site.changed` per save
 * (its body is `{}`, recorded from a real Ghost). Each used to become `/*` and a full mirror crawl.
 */
describe('the `/*` budget: lone site.changed events are rate-limited and merged (service on moto CloudFront and S3)', () => {
  let moto: MotoServer;
  let cloudFront: CloudFrontClient;
  let distributionId: string;
  let origin: StreamingOrigin;
  let service: CacheInvalidator;

  beforeAll(async () => {
    moto = await MotoServer.start();
    cloudFront = motoCloudFront(moto);
    distributionId = await createDistribution(cloudFront, 'budget');
    const bucket = `budget-${Date.now()}`;
    await motoS3(moto.endpoint).send(new CreateBucketCommand({ Bucket: bucket }));
    origin = await StreamingOrigin.start();
    const html = (title: string) => ({ kind: 'page' as const, contentType: 'text/html', body: `<h1>${title}</h1>` });
    origin.route('/', html('home'));
    origin.route('/hello/', html('hello'));
    origin.route('/sitemap.xml', {
      kind: 'page',
      contentType: 'text/xml',
      body: '<sitemapindex><sitemap><loc>https://example.com/hello/</loc></sitemap></sitemapindex>',
    });
    service = await startInvalidator(
      {
        SITE_URL: 'https://example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
        WEBHOOK_SECRET: SECRET,
        MIRROR_BUCKET: bucket,
        MIRROR_ORIGIN_URL: origin.url,
        MIRROR_BUILD_ON_EMPTY: 'false',
        MIRROR_RECONCILE_ON_START: 'false',
        SITE_CHANGED_MIN_INTERVAL_MS: String(PERIOD_MS),
      },
      cloudFront,
      { s3: motoS3(moto.endpoint) },
    );
  });

  afterAll(async () => {
    await service?.stop();
    await origin?.close();
    await moto?.destroy();
  });

  it(`${SAVES} profile saves within a minute: one \`/*\` and one full crawl; the rest wait, merged, into one more after the period`, async () => {
    const body = JSON.stringify(webhookOf('site setting', 'site.changed').body);
    const started = Date.now();
    for (let save = 0; save < SAVES; save++) {
      const response = await fetch(`${service.url}/webhooks/ghost/site.changed`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()),
        },
        body,
      });
      expect(response.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // Longer than the window, the longest wait and the echo window after the last save.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await service.mirror?.idle(20_000)).toBe(true);
    const everythingSoFar = async () =>
      (await invalidationsIn(cloudFront, distributionId)).filter((i) => i.paths.includes('/*')).length;
    const inTheMinute = { everything: await everythingSoFar(), crawls: origin.requestsFor('/sitemap.xml') };
    const waiting = service.queueDepth.events;
    process.stdout.write(
      `${SAVES} lone site.changed in ${Math.round((Date.now() - started) / 1000)} s: ${inTheMinute.everything} /* invalidation(s), ${inTheMinute.crawls} full crawl(s); ${waiting} waiting, merged, for the next period\n`,
    );
    expect(inTheMinute).toEqual({ everything: 1, crawls: 1 });
    expect(waiting).toBeGreaterThan(0);
    // Once the period since the first `/*` is over, the waiting ones become one more `/*` and one crawl.
    await expect.poll(everythingSoFar, { timeout: PERIOD_MS + 10_000, interval: 500 }).toBe(2);
    expect(await service.mirror?.idle(20_000)).toBe(true);
    expect(origin.requestsFor('/sitemap.xml')).toBe(2);
    expect(service.queueDepth.events).toBe(0);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^cache_invalidator_invalidated_paths_today(\{[^}]*\})? 2$/m);
  }, 120_000);
});
