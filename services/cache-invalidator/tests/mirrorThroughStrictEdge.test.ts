// @module-tag ghost
import { readFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadEdgeSettings, OriginGroupEmulator, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_PREFIX, MirrorTestBed } from './support/MirrorTestBed.js';

function report(...parts: unknown[]): void {
  process.stdout.write(`${parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ')}\n`);
}

/** Where the mirror keeps Ghost's own 404 page (viewer path; the key is <prefix> + this). */
const NOT_FOUND_PAGE = '/.ghost-404.html';
/** What scripts/deploy.sh puts into the mirror for the canary (edge.yaml MirrorCanaryFunction). */
const CANARY = '/.ghost-ha-canary.html';
const CANARY_FILE = new URL('../../../infra/mirror-canary.html', import.meta.url);
/**
 * Ghost's redirects as a site owner uploads them (redirects.yaml): a permanent rule and a temporary
 * one with a capture. Ghost applies them while it is up; the edge must while it is down.
 */
const REDIRECTS_YAML = ['301:', '  ^/moved-away/$: /tag/news/', '302:', '  ^/archive/([a-z0-9-]+)/$: /$1/', ''].join(
  '\n',
);

/** Uploads redirects to Ghost as its Admin API takes them (multipart field `redirects`; staff only). */
async function uploadRedirects(bed: MirrorTestBed, yaml: string): Promise<void> {
  const form = new FormData();
  form.append('redirects', new Blob([yaml], { type: 'application/yaml' }), 'redirects.yaml');
  const answer = await bed.ghost.staffRequest('POST', '/redirects/upload/', form);
  if (answer.status !== 200)
    throw new Error(`uploading redirects: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * Readers during an outage, through CloudFront as edge.yaml configures it (the strict emulator: no
 * viewer Host to S3, the bucket policy of data.yaml, connection attempts and timeouts, the edge
 * function): real Ghost behind the gate, the real refresher's mirror in moto's S3.
 */
describe('the mirror through the edge as the templates configure it: Ghost stopped, Ghost hung', () => {
  let bed: MirrorTestBed;
  let sample: string[] = [];
  let ghostNotFound: Buffer = Buffer.alloc(0);
  let ghostMissing: Buffer = Buffer.alloc(0);
  let clock = Date.now();

  beforeAll(async () => {
    bed = await MirrorTestBed.start({ seedPosts: 55 });
    await uploadRedirects(bed, REDIRECTS_YAML);
    // As scripts/deploy.sh does after the data stack, before the invalidator's first start.
    await bed.s3.send(
      new PutObjectCommand({
        Bucket: bed.bucket,
        Key: `${MIRROR_PREFIX}${CANARY}`,
        Body: await readFile(CANARY_FILE),
        ContentType: 'text/html; charset=utf-8',
      }),
    );
    // Ghost's content, as the invalidator's container mounts it read-only: Ghost's redirects file.
    await bed.startInvalidator({ MIRROR_GHOST_CONTENT_PATH: bed.ghost.contentDir });
    expect(await bed.invalidator.mirror?.idle(120_000)).toBe(true);
    const posts = (await bed.ghost.admin.browse('posts', { limit: 100 })).items.map(
      (post) => new URL(post.url as string).pathname,
    );
    const listings = ['/', '/page/2/', '/rss/', '/tag/news/', '/tag/news/rss/', '/sitemap.xml', '/sitemap-posts.xml'];
    sample = [...listings, ...posts].slice(0, 50);
    let absent: string[] = [];
    await waitFor(
      async () => {
        absent = [];
        for (const path of sample) if ((await bed.mirrored(path)) === undefined) absent.push(path);
        return absent.length === 0 ? true : undefined;
      },
      { what: 'the mirror to hold every sampled page', timeoutMs: 120_000, intervalMs: 500 },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; missing: ${absent.slice(0, 5).join(', ')}`);
    });
    // Ghost's themed 404 page, as the refresher stored it where the edge looks for it.
    // Not one of Ghost's pages: Ghost 6 answers 404 at once, Ghost 5 adds a trailing slash first (301).
    const fromGhost = await fetch(`${bed.ghost.url}${NOT_FOUND_PAGE}`, { headers: { 'Accept-Encoding': 'identity' } });
    expect(fromGhost.status).toBe(404);
    expect(new URL(fromGhost.url).host).toBe(new URL(bed.ghost.url).host);
    const stored = await bed.mirrored(NOT_FOUND_PAGE);
    expect(stored?.contentType).toMatch(/^text\/html/);
    ghostNotFound = stored?.body ?? Buffer.alloc(0);
    const missing = await bed.anonymous('/no-such-page/');
    expect(missing.status).toBe(404);
    ghostMissing = missing.body;
    expect((await bed.mirrored('/.ghost-redirects.json'))?.contentType).toBe('application/json');
  }, 360_000); // Ghost with 55 posts, then a full build of the mirror: minutes on a loaded two-core machine.

  afterAll(async () => {
    await bed?.destroy();
  });

  async function edge(): Promise<OriginGroupEmulator> {
    return OriginGroupEmulator.start({
      primary: { id: 'alb', url: bed.gateUrl },
      secondary: { id: 'mirror', client: bed.s3, bucket: bed.bucket },
      // The template's 5 s connection and 30 s read timeouts, 2 attempts, at a 15th of the time.
      timeScale: 1 / 15,
      now: () => clock,
      viewerHost: 'blog.example.com',
    });
  }

  async function readThrough(emulator: OriginGroupEmulator): Promise<string[]> {
    const failures: string[] = [];
    for (const path of sample) {
      const [answer, copy] = await Promise.all([fetch(`${emulator.url}${path}`), bed.mirrored(path)]);
      const body = Buffer.from(await answer.arrayBuffer());
      if (answer.status !== 200) failures.push(`${path}: ${answer.status}`);
      else if (!copy?.body.equals(body)) failures.push(`${path}: not the mirror's copy`);
    }
    return failures;
  }

  async function missesAndRedirects(emulator: OriginGroupEmulator): Promise<void> {
    const missing = await fetch(`${emulator.url}/no-such-page/`);
    expect(missing.status).toBe(404);
    const page = Buffer.from(await missing.arrayBuffer());
    // Ghost's rendered 404 page (the theme's, or Ghost's own view when the theme has none, as the
    // default theme Source); the edge's fallback is a bare heading without it.
    expect(page.toString('utf8'), "Ghost's 404 page").toContain('class="error-code"');
    expect(page.equals(ghostNotFound), "Ghost's 404 page, as mirrored").toBe(true);
    expect(page.equals(ghostMissing), 'what Ghost itself answers for the missing URL').toBe(true);
    // Ghost's redirects, applied by the edge for pages the mirror lacks.
    const moved = await fetch(`${emulator.url}/moved-away/`, { redirect: 'manual' });
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/tag/news/');
    const archived = await fetch(`${emulator.url}/archive/some-post/?ref=mail`, { redirect: 'manual' });
    expect(archived.status).toBe(302);
    expect(archived.headers.get('location')).toBe('/some-post/?ref=mail');
    const post = sample.find((path) => /^\/[a-z0-9-]+\/$/.test(path) && !['/rss/'].includes(path)) ?? '';
    const redirect = await fetch(`${emulator.url}${post.slice(0, -1)}`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe(post);
    const api = await fetch(`${emulator.url}/ghost/api/content/posts/`);
    expect(api.status).toBe(503);
    expect(api.headers.get('content-type')).not.toMatch(/html/);
  }

  it('Ghost stopped: 100 % of 50 public URLs answer 200 from the mirror, a miss is 404 with Ghost’s page, /post redirects', async () => {
    expect(sample).toHaveLength(50);
    const emulator = await edge();
    await bed.ghost.stop();
    try {
      const failures = await readThrough(emulator);
      report(
        `strict edge, Ghost stopped: ${(((50 - failures.length) / 50) * 100).toFixed(1)} % of 50 answered 200 from the mirror; first failures: ${failures.slice(0, 5).join('; ')}`,
      );
      expect(failures).toEqual([]);
      await missesAndRedirects(emulator);
    } finally {
      await emulator.close();
      await bed.ghost.start();
    }
    await bed.verdictBecomes(200, 30_000);
  });

  it('Ghost hung (SIGSTOP): 100 % of 50 public URLs answer 200 from the mirror, a miss is 404 with Ghost’s page', async () => {
    const emulator = await edge();
    const pid = bed.ghost.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    try {
      const failures = await readThrough(emulator);
      report(
        `strict edge, Ghost hung: ${(((50 - failures.length) / 50) * 100).toFixed(1)} % of 50 answered 200 from the mirror in ${Date.now() - started} ms; first failures: ${failures.slice(0, 5).join('; ')}`,
      );
      expect(failures).toEqual([]);
      await missesAndRedirects(emulator);
    } finally {
      process.kill(pid, 'SIGCONT');
      await emulator.close();
    }
    await bed.verdictBecomes(200, 30_000);
  });

  it('recovery: once Ghost answers again, no reader gets a mirror copy for longer than the bound', async () => {
    const emulator = await edge();
    try {
      const path = sample[10] ?? '/';
      await bed.ghost.stop();
      expect((await fetch(`${emulator.url}${path}`)).status).toBe(200);
      expect(emulator.routed.at(-1)?.servedBy).toBe('mirror');
      await bed.ghost.start();
      await bed.verdictBecomes(200, 30_000);
      // Ghost answers again when the ALB (the gate) serves the page itself.
      await waitFor(async () => ((await fetch(`${bed.gateUrl}${path}`)).status === 200 ? true : undefined), {
        what: `the gate to serve ${path} from Ghost`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      // The edge's clock runs on from here: how long is the mirror copy still served?
      const recovered = clock;
      let servedMirrorFor = 0;
      for (let seconds = 0; seconds <= 7200; seconds += 15) {
        clock = recovered + seconds * 1000;
        await fetch(`${emulator.url}${path}`);
        const last = emulator.routed.at(-1);
        if ((last?.storedBy ?? last?.servedBy) !== 'mirror') break;
        servedMirrorFor = seconds;
      }
      report(`recovery: the mirror copy of ${path} was served for ${servedMirrorFor} s after Ghost answered again`);
      expect(servedMirrorFor).toBeLessThanOrEqual(RECOVERY_BOUND_SECONDS);
    } finally {
      await emulator.close();
    }
  });

  it('a full crawl with removals keeps the canary, the 404 page and the redirects', async () => {
    const [post] = (await bed.ghost.admin.browse('posts', { limit: 1 })).items;
    const path = new URL(post?.url as string).pathname;
    expect(await bed.mirrored(path)).toBeDefined();
    await bed.ghost.admin.delete('posts', post?.id ?? '');
    const at = Date.now();
    await bed.invalidator.mirror?.enqueue({
      id: `crawl-${at}`,
      changedAt: at,
      paths: [],
      everything: true,
      source: 'build',
    });
    expect(await bed.invalidator.mirror?.idle(120_000)).toBe(true);
    expect(await bed.mirrored(path), 'the deleted post left the mirror').toBeUndefined();
    expect((await bed.mirrored(CANARY))?.body.toString('utf8')).toContain('ghost-ha mirror canary');
    expect(await bed.mirrored(NOT_FOUND_PAGE), "Ghost's 404 page").toBeDefined();
    expect(await bed.mirrored('/.ghost-redirects.json'), "Ghost's redirects").toBeDefined();
  });
});

/** The longest a reader may get a mirror copy after Ghost answers again: the mirror's s-maxage (edge.yaml). */
const RECOVERY_BOUND_SECONDS = Number(loadEdgeSettings().parameters.MirrorCacheSeconds);
