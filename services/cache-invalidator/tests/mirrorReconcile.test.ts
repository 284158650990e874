// @module-tag integration
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '@ghost-ha/core';
import { MotoServer, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { MirrorReconciler } from '../src/mirror/MirrorReconciler.js';
import type { MirrorRefresher } from '../src/mirror/MirrorRefresher.js';
import { crawlOnStart, startMirror } from '../src/mirror/startMirror.js';
import { SitePaths } from '../src/sitePaths.js';
import { motoS3 } from './support/MirrorTestBed.js';
import { StreamingOrigin } from './support/StreamingOrigin.js';
import { newJournalDir } from './support/startInvalidator.js';

const logger = createLogger({ service: 'mirror-reconcile-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * After a failover the invalidator starts in the new region with a mirror that holds pages, and
 * possibly lacks what the old region's journal still had queued: the start reconciles it (a full
 * crawl), and so does a timer while it runs. Real refresher, moto's S3, a stand-in for the gate.
 */
describe('the mirror is reconciled (full crawl) on start and on a timer (moto S3)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let origin: StreamingOrigin;
  const bucket = `mirror-reconcile-${Date.now()}`;
  const refreshers: MirrorRefresher[] = [];

  beforeAll(async () => {
    moto = await MotoServer.start();
    s3 = motoS3(moto.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    origin = await StreamingOrigin.start();
    origin.route('/', {
      kind: 'page',
      contentType: 'text/html; charset=utf-8',
      body: '<html><body>home</body></html>',
    });
  });

  afterAll(async () => {
    for (const refresher of refreshers) await refresher.stop();
    await origin?.close();
    await moto?.destroy();
  });

  async function start(prefix: string, env: Record<string, string> = {}) {
    const config = loadConfig({
      SITE_URL: 'https://example.com',
      CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
      ALLOW_UNSIGNED_WEBHOOKS: 'true',
      MIRROR_BUCKET: bucket,
      MIRROR_PREFIX: prefix,
      MIRROR_ORIGIN_URL: origin.url,
      ...env,
    });
    const settings = config.mirror;
    if (!settings) throw new Error('no mirror settings');
    const started = await startMirror({
      settings,
      s3,
      site: new SitePaths(config.siteUrl),
      siteUrl: config.siteUrl,
      journalDir: await newJournalDir(),
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      logger,
    });
    refreshers.push(started.refresher);
    return { ...started, settings };
  }

  /** Sitemap reads under way: each full crawl starts from `/sitemap.xml`. */
  const crawls = () => origin.requests.filter((r) => r.path === '/sitemap.xml').length;

  /** A mirror that holds pages, as the other region's invalidator (or replication) left it. */
  async function holdsPages(prefix: string) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/index.html`, Body: 'old home' }));
  }

  it('a start with pages in the mirror crawls the whole site; MIRROR_RECONCILE_ON_START=false does not', async () => {
    await holdsPages('off');
    const off = await start('off', { MIRROR_RECONCILE_ON_START: 'false' });
    const before = crawls();
    await crawlOnStart(off.refresher, off.store, logger, off.settings);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(crawls()).toBe(before);
    expect(off.refresher.depth).toBe(0);

    await holdsPages('on');
    const on = await start('on');
    await crawlOnStart(on.refresher, on.store, logger, on.settings);
    await waitFor(async () => (crawls() > before ? true : undefined), { timeoutMs: 20_000, what: 'a full crawl' });
    await waitFor(async () => (on.refresher.depth === 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the reconcile to finish',
    });
  });

  it('the timer reconciles while running (MIRROR_RECONCILE_INTERVAL_MS)', async () => {
    await holdsPages('timer');
    const { refresher } = await start('timer', { MIRROR_RECONCILE_ON_START: 'false' });
    const before = crawls();
    const reconciler = new MirrorReconciler({ enqueue: (job) => refresher.enqueue(job), intervalMs: 300, logger });
    reconciler.start();
    try {
      await waitFor(async () => (crawls() >= before + 2 ? true : undefined), {
        timeoutMs: 30_000,
        what: 'two reconciles',
      });
    } finally {
      reconciler.stop();
    }
    expect(refresher.depth).toBeLessThanOrEqual(2);
  });
});
