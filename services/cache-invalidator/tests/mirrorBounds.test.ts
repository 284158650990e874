// @module-tag integration
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createLogger, createRegistry } from '@ghost-ha/core';
import { MotoServer, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { MirrorRefresher } from '../src/mirror/MirrorRefresher.js';
import { type MirrorDeps, startMirror } from '../src/mirror/startMirror.js';
import { SitePaths } from '../src/sitePaths.js';
import { motoS3 } from './support/MirrorTestBed.js';
import { StreamingOrigin } from './support/StreamingOrigin.js';
import { newJournalDir } from './support/startInvalidator.js';

const MiB = 1024 * 1024;

/** The largest resident set seen while `during` runs, sampled every 20 ms, above the RSS before it. */
async function peakRssGrowth<T>(during: () => Promise<T>): Promise<{ value: T; baseMiB: number; peakMiB: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const value = await during();
    return { value, baseMiB: Math.round(base / MiB), peakMiB: Math.round(peak / MiB) };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * The refresher against a stand-in for Ghost behind the gate (pages, files streamed as they are read,
 * an always-500 post) and moto's S3: what an author can plant never leaves the site nor reaches the
 * bucket, bodies are bounded, and one bad path holds up no other refresh.
 */
describe('the mirror keeps to the site and to bounded work (stand-in origin, moto S3)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let origin: StreamingOrigin;
  let elsewhere: StreamingOrigin;
  const bucket = `mirror-bounds-${Date.now()}`;
  const refreshers: MirrorRefresher[] = [];

  beforeAll(async () => {
    moto = await MotoServer.start();
    s3 = motoS3(moto.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    [origin, elsewhere] = await Promise.all([StreamingOrigin.start(), StreamingOrigin.start()]);
  });

  afterAll(async () => {
    for (const refresher of refreshers) await refresher.stop();
    await origin?.close();
    await elsewhere?.close();
    await moto?.destroy();
  });

  async function startRefresher(
    prefix: string,
    env: Record<string, string> = {},
    hooks: Pick<MirrorDeps, 'onJobFinished' | 'onPath'> = {},
  ) {
    const config = loadConfig({
      SITE_URL: 'https://example.com',
      CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
      ALLOW_UNSIGNED_WEBHOOKS: 'true',
      MIRROR_BUCKET: bucket,
      MIRROR_PREFIX: prefix,
      MIRROR_ORIGIN_URL: origin.url,
      MIRROR_CONCURRENCY: '2',
      MIRROR_FETCH_TIMEOUT_MS: '30000',
      ...env,
    });
    const settings = config.mirror;
    if (!settings) throw new Error('no mirror settings');
    const { refresher } = await startMirror({
      settings,
      s3,
      site: new SitePaths(config.siteUrl),
      siteUrl: config.siteUrl,
      journalDir: await newJournalDir(),
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      logger: createLogger({ service: 'mirror-bounds-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      registry: createRegistry({ service: 'cache-invalidator' }),
      ...hooks,
    });
    refreshers.push(refresher);
    return refresher;
  }

  async function keys(prefix: string): Promise<{ key: string; size: number }[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
    return (listed.Contents ?? []).map((object) => ({ key: object.Key ?? '', size: object.Size ?? 0 }));
  }

  it('`//host`, loopback, the metadata address, `%2F`, a 1,100-character path and 500 MB bodies: nothing leaves the site, nothing over the caps reaches S3', async () => {
    const page = (body: string) => ({ kind: 'page' as const, contentType: 'text/html; charset=utf-8', body });
    origin.route('/hello/', page('<html><body>hello</body></html>'));
    origin.route('/content/files/huge.mp4', {
      kind: 'stream',
      contentType: 'video/mp4',
      bytes: 500 * MiB,
      declareLength: false,
      cutAfterBytes: 64 * MiB,
    });
    origin.route('/content/images/declared.jpg', {
      kind: 'stream',
      contentType: 'image/jpeg',
      bytes: 500 * MiB,
      declareLength: true,
      cutAfterBytes: 64 * MiB,
    });
    const away = new URL(elsewhere.url).host;
    const hostile = [
      `//${away}/x/rss/`,
      `//${away}/metrics`,
      '//169.254.170.2/v2/credentials/rss/',
      '/content/images/x%2F..%2F..%2Fmetrics.png',
      `/${'a'.repeat(1_100)}/`,
    ];
    const refresher = await startRefresher('bounds', { MIRROR_MAX_FILE_BYTES: String(16 * MiB) });
    const {
      value: idle,
      baseMiB,
      peakMiB,
    } = await peakRssGrowth(async () => {
      await refresher.enqueue({
        id: 'hostile',
        changedAt: Date.now(),
        paths: ['/hello/', '/content/files/huge.mp4', '/content/images/declared.jpg', ...hostile],
        everything: false,
        source: 'batch',
      });
      return refresher.idle(60_000);
    });
    process.stdout.write(
      `500 MB bodies with a 16 MiB cap: streamed ${Math.round((origin.bytesSent.get('/content/files/huge.mp4') ?? 0) / MiB)} MiB (chunked), ${Math.round((origin.bytesSent.get('/content/images/declared.jpg') ?? 0) / MiB)} MiB (declared); RSS ${baseMiB} → peak ${peakMiB} MiB\n`,
    );
    expect(idle, 'the refresh finishes').toBe(true);
    expect(elsewhere.requests, 'requests that left the site').toEqual([]);
    const fetched = origin.requests.map((request) => request.path);
    expect(fetched.filter((path) => path.startsWith('//') || /%2f|%5c|%2e/i.test(path) || path.length > 1_000)).toEqual(
      [],
    );
    expect(origin.overruns.size, 'a body read past its cap').toBe(0);
    expect(origin.bytesSent.get('/content/files/huge.mp4') ?? 0).toBeLessThanOrEqual(24 * MiB);
    expect(origin.bytesSent.get('/content/images/declared.jpg') ?? 0).toBeLessThanOrEqual(8 * MiB);
    expect((await keys('bounds')).map((object) => object.key)).toEqual(['bounds/hello/']);
    expect(peakMiB - baseMiB).toBeLessThan(150);
  }, 120_000);

  it('one post always answering 500 and one 200 MB file: every other refresh still lands; the post is parked', async () => {
    const page = (body: string) => ({ kind: 'page' as const, contentType: 'text/html; charset=utf-8', body });
    origin.route('/broken/', { kind: 'status', status: 500 });
    origin.route('/content/files/video.mp4', {
      kind: 'stream',
      contentType: 'video/mp4',
      bytes: 200 * MiB,
      declareLength: true,
    });
    for (const name of ['a', 'b', 'c']) origin.route(`/${name}/`, page(`<html><body>${name}</body></html>`));
    const refresher = await startRefresher('resilient', { MIRROR_MAX_ATTEMPTS: '3' });
    const started = Date.now();
    const landed: Record<string, number> = {};
    const { baseMiB, peakMiB } = await peakRssGrowth(async () => {
      await refresher.enqueue({
        id: 'first',
        changedAt: started,
        paths: ['/broken/', '/content/files/video.mp4', '/a/'],
        everything: false,
        source: 'batch',
      });
      await refresher.enqueue({ id: 'second', changedAt: started, paths: ['/b/'], everything: false, source: 'batch' });
      await refresher.enqueue({ id: 'third', changedAt: started, paths: ['/c/'], everything: false, source: 'batch' });
      await waitFor(
        async () => {
          const present = new Set((await keys('resilient')).map((object) => object.key));
          for (const name of ['a', 'b', 'c']) {
            if (present.has(`resilient/${name}/`)) landed[name] ??= Date.now() - started;
          }
          if (present.has('resilient/content/files/video.mp4')) landed.video ??= Date.now() - started;
          return ['a', 'b', 'c'].every((name) => landed[name] !== undefined) ? true : undefined;
        },
        { what: 'every other refresh to land', timeoutMs: 60_000, intervalMs: 50 },
      );
      return refresher.idle(120_000);
    });
    const video = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'resilient/content/files/video.mp4' }));
    process.stdout.write(
      `always-500 post + 200 MB file: landed after (ms) ${JSON.stringify(landed)}; ${origin.requestsFor('/broken/')} attempts at /broken/; RSS ${baseMiB} → peak ${peakMiB} MiB\n`,
    );
    expect(video.ContentLength).toBe(200 * MiB);
    // Neither the retried page nor the file in the first job held up the later ones.
    for (const name of ['b', 'c']) expect(landed[name], name).toBeLessThan(landed.video ?? Number.POSITIVE_INFINITY);
    expect(refresher.parkedPaths().map((parked) => parked.path)).toEqual(['/broken/']);
    expect(origin.requestsFor('/broken/')).toBe(3);
    expect(peakMiB - baseMiB).toBeLessThan(150);
  }, 180_000);

  it('a page, feed or small file Ghost serves again with the same content is not written again; a changed one is', async () => {
    const writes: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand' || context.commandName === 'CreateMultipartUploadCommand') {
          writes.push(String((args.input as { Key?: string }).Key));
        }
        return next(args);
      },
      { step: 'initialize', name: 'countWrites' },
    );
    try {
      const page = (body: string) => ({ kind: 'page' as const, contentType: 'text/html; charset=utf-8', body });
      origin.route('/same/', page('<h1>same</h1>'));
      origin.route('/edited/', page('<h1>before</h1>'));
      // Ghost sets a feed's <lastBuildDate> to the time of each request: the same items are the same feed.
      const feed = (at: string) => ({
        kind: 'page' as const,
        contentType: 'application/rss+xml; charset=utf-8', // as Ghost serves a feed (streamed, not parsed)
        body: `<?xml version="1.0"?><rss><channel><lastBuildDate>${at}</lastBuildDate><item>one</item></channel></rss>`,
        // Express's ETag: a hash of the body, so it changes with the date.
        headers: { ETag: `W/"${Buffer.from(at).toString('hex').slice(-16)}"` },
      });
      origin.route('/rss/', feed('Sun, 06 Dec 2026 21:00:00 GMT'));
      origin.route('/robots.txt', { kind: 'page', contentType: 'text/plain', body: 'User-agent: *\n' });
      const refresher = await startRefresher('hashed');
      const refresh = async (id: string) => {
        await refresher.enqueue({
          id,
          changedAt: Date.now(),
          paths: ['/same/', '/edited/', '/rss/', '/robots.txt'],
          everything: false,
          source: 'batch',
        });
        expect(await refresher.idle(30_000)).toBe(true);
      };
      await refresh('first');
      expect(writes.sort()).toEqual(['hashed/edited/', 'hashed/robots.txt', 'hashed/rss/', 'hashed/same/']);
      writes.length = 0;
      origin.route('/edited/', page('<h1>after</h1>'));
      origin.route('/rss/', feed('Sun, 06 Dec 2026 21:05:00 GMT'));
      await refresh('second');
      expect(writes).toEqual(['hashed/edited/']);
      const edited = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hashed/edited/' }));
      expect(await edited.Body?.transformToString()).toBe('<h1>after</h1>');
    } finally {
      s3.middlewareStack.remove('countWrites');
    }
  }, 60_000);

  it('a parked path is tried again every MIRROR_PARKED_RETRY_MS and lands once Ghost serves it', async () => {
    origin.route('/flaky/', { kind: 'status', status: 500 });
    const refresher = await startRefresher('retry', { MIRROR_MAX_ATTEMPTS: '2', MIRROR_PARKED_RETRY_MS: '1000' });
    await refresher.enqueue({
      id: 'flaky',
      changedAt: Date.now(),
      paths: ['/flaky/'],
      everything: false,
      source: 'batch',
    });
    expect(await refresher.idle(30_000)).toBe(true);
    expect(refresher.parkedPaths().map((parked) => parked.path)).toEqual(['/flaky/']);
    origin.route('/flaky/', { kind: 'page', contentType: 'text/html', body: '<h1>fixed</h1>' });
    await waitFor(async () => (refresher.parkedPaths().length === 0 ? true : undefined), {
      what: 'the parked path to be tried again',
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(await refresher.idle(10_000)).toBe(true);
    expect((await keys('retry')).map((object) => object.key)).toEqual(['retry/flaky/']);
  }, 60_000);

  it('a path answered 503 or 429 (Ghost or its gate unavailable, not the page) is retried while that lasts and never parked', async () => {
    origin.route('/robots.txt', { kind: 'page', contentType: 'text/plain', body: 'User-agent: *\n' });
    origin.route('/busy/', { kind: 'status', status: 503 });
    origin.route('/throttled/', { kind: 'status', status: 429 });
    const refresher = await startRefresher('busy', { MIRROR_MAX_ATTEMPTS: '2', MIRROR_PARKED_RETRY_MS: '600000' });
    await refresher.enqueue({
      id: 'busy',
      changedAt: Date.now(),
      paths: ['/busy/', '/throttled/'],
      everything: false,
      source: 'batch',
    });
    // Twice the attempts after which a failing page is parked, while the site's robots.txt answers.
    await waitFor(
      async () => (origin.requestsFor('/busy/') >= 4 && origin.requestsFor('/throttled/') >= 4 ? true : undefined),
      { what: 'four answers each', timeoutMs: 15_000, intervalMs: 20 },
    );
    expect(refresher.parkedPaths()).toEqual([]);
    origin.route('/busy/', { kind: 'page', contentType: 'text/html', body: '<h1>back</h1>' });
    origin.route('/throttled/', { kind: 'page', contentType: 'text/html', body: '<h1>back too</h1>' });
    expect(await refresher.idle(30_000)).toBe(true);
    expect((await keys('busy')).map((object) => object.key).sort()).toEqual(['busy/busy/', 'busy/throttled/']);
  }, 60_000);

  it('a takedown goes before a running full crawl; crawls queued behind it merge into one', async () => {
    const pages = Array.from({ length: 20 }, (_, i) => `/p-${i}/`);
    origin.route('/', { kind: 'page', contentType: 'text/html', body: '<h1>home</h1>' });
    origin.route('/sitemap.xml', {
      kind: 'page',
      contentType: 'text/xml',
      body: `<urlset>${pages.map((p) => `<url><loc>https://example.com${p}</loc></url>`).join('')}</urlset>`,
    });
    for (const page of pages) {
      origin.route(page, { kind: 'page', contentType: 'text/html', body: `<h1>${page}</h1>`, delayMs: 150 });
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'merge/taken-down/', Body: 'old copy' }));
    const finished: string[] = [];
    const refresher = await startRefresher('merge', {}, { onJobFinished: (job) => finished.push(job.id) });
    const crawl = (id: string) =>
      refresher.enqueue({ id, changedAt: Date.now(), paths: [], everything: true, source: 'build' });
    await crawl('crawl-1');
    await waitFor(async () => (pages.some((p) => origin.requestsFor(p) > 0) ? true : undefined), {
      what: 'the first crawl to be under way',
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    await crawl('crawl-2');
    await crawl('crawl-3');
    const takedownAt = Date.now();
    await refresher.enqueue({
      id: 'takedown',
      changedAt: takedownAt,
      paths: ['/taken-down/'],
      everything: false,
      source: 'batch',
    });
    await waitFor(async () => (finished.includes('takedown') ? true : undefined), {
      what: 'the takedown to land',
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    const takedownMs = Date.now() - takedownAt;
    expect(await refresher.idle(60_000)).toBe(true);
    process.stdout.write(
      `takedown during a crawl landed after ${takedownMs} ms; jobs finished in order ${finished.join(', ')}; sitemap fetched ${origin.requestsFor('/sitemap.xml')} times\n`,
    );
    // The takedown's path answered 404: its recheck a moment later is a job of its own.
    expect(finished.filter((id) => !id.endsWith('-recheck'))).toEqual(['takedown', 'crawl-1', 'crawl-2']);
    expect(refresher.hasFinished('crawl-3')).toBe(true);
    expect(origin.requestsFor('/sitemap.xml')).toBe(2);
    expect((await keys('merge')).map((object) => object.key)).not.toContain('merge/taken-down/');
  }, 90_000);

  it('a full crawl removes at most its share of the mirror, whatever Ghost answers', async () => {
    const planted = Array.from({ length: 100 }, (_, i) => `guard/gone-${i}/`);
    for (const key of planted) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'page' }));
    origin.route('/', { kind: 'page', contentType: 'text/html', body: '<h1>home</h1>' });
    const refresher = await startRefresher('guard', { MIRROR_MAX_REMOVE_SHARE: '0.25' });
    await refresher.enqueue({ id: 'crawl', changedAt: Date.now(), paths: [], everything: true, source: 'build' });
    expect(await refresher.idle(60_000)).toBe(true);
    const left = (await keys('guard')).filter((object) => object.key.startsWith('guard/gone-')).length;
    process.stdout.write(`removal guard: ${100 - left} of 100 pages Ghost no longer serves removed in one crawl\n`);
    expect(100 - left).toBeLessThanOrEqual(25);
    expect(100 - left).toBeGreaterThan(0);
  }, 90_000);
  it.each([
    ['fetched again a moment later, and stored', '1000', true],
    ['without the recheck (MIRROR_RECHECK_GONE_MS=0), never stored', '0', false],
  ])(
    'a page Ghost answers 404 for just after the change (its routes not updated yet): %s',
    async (_name, recheckMs, stored) => {
      const prefix = `late-${recheckMs}`;
      origin.route('/just-renamed/', { kind: 'status', status: 404 });
      const finished: string[] = [];
      const refresher = await startRefresher(
        prefix,
        { MIRROR_RECHECK_GONE_MS: recheckMs },
        { onJobFinished: (job) => finished.push(job.id) },
      );
      await refresher.enqueue({
        id: 'rename',
        changedAt: Date.now(),
        paths: ['/just-renamed/'],
        everything: false,
        source: 'batch',
      });
      await waitFor(async () => (finished.includes('rename') ? true : undefined), {
        what: 'the batch to finish',
        timeoutMs: 10_000,
        intervalMs: 10,
      });
      // Ghost's routes catch up with the change.
      origin.route('/just-renamed/', { kind: 'page', contentType: 'text/html', body: '<h1>renamed</h1>' });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await refresher.idle(10_000)).toBe(true);
      const held = (await keys(prefix)).map((object) => object.key);
      expect(held.includes(`${prefix}/just-renamed/`)).toBe(stored);
      expect(finished.includes('rename-recheck')).toBe(stored);
    },
    60_000,
  );
});
