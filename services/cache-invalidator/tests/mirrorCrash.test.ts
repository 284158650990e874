// @module-tag ghost
import { freePort, type ManagedProcess, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_PREFIX, MirrorTestBed } from './support/MirrorTestBed.js';
import { startServiceProcess } from './support/serviceProcess.js';
import { FAST_SETTINGS, newJournalDir } from './support/startInvalidator.js';

const CONCURRENCY = 2;

describe('the mirror survives kill -9 of the invalidator mid-build', () => {
  let bed: MirrorTestBed;
  let journalDir: string;
  let port: number;
  const children: ManagedProcess[] = [];

  beforeAll(async () => {
    bed = await MirrorTestBed.start({ seedPosts: 40 });
    journalDir = await newJournalDir();
    port = await freePort();
  });

  afterAll(async () => {
    for (const child of children) await child.stop(5_000);
    await bed?.destroy();
  });

  const start = async (name: string) => {
    const child = await startServiceProcess(name, {
      ...FAST_SETTINGS,
      ...bed.moto.awsEnv(),
      AWS_ENDPOINT_URL_S3: bed.s3Proxy.url,
      PORT: String(port),
      SITE_URL: bed.ghost.url,
      CLOUDFRONT_DISTRIBUTION_IDS: bed.distributionId,
      WEBHOOK_SECRET: 'crash-secret',
      JOURNAL_DIR: journalDir,
      MIRROR_BUCKET: bed.bucket,
      MIRROR_PREFIX,
      MIRROR_ORIGIN_URL: bed.gateUrl,
      MIRROR_CONCURRENCY: String(CONCURRENCY),
      // A resumed build is counted write by write: no reconcile beside it.
      MIRROR_RECONCILE_ON_START: 'false',
    });
    children.push(child);
    return child;
  };
  const putKeys = (from = 0, to = bed.s3Proxy.requests.length) =>
    bed.s3Proxy.requests
      .slice(from, to)
      .filter((r) => r.method === 'PUT')
      .map((r) => decodeURIComponent(r.path.split('?')[0] ?? ''));

  it('resumes the build after a restart: every page lands, and only the pages in flight at the kill are written twice', async () => {
    const first = await start('invalidator-before-kill');
    await waitFor(async () => (putKeys().length >= 30 ? true : undefined), {
      what: 'the first build to be well under way',
      timeoutMs: 60_000,
      intervalMs: 20,
      abortIf: () => (first.isRunning ? undefined : first.tail()),
    });
    await first.kill();
    const atKill = bed.s3Proxy.requests.length;
    const before = putKeys(0, atKill);

    const second = await start('invalidator-after-kill');
    const pending = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('cache_invalidator_mirror_pending_jobs'));
      return Number(line?.split(' ').at(-1));
    };
    await waitFor(async () => ((await pending()) === 0 ? true : undefined), {
      what: 'the resumed build to finish',
      timeoutMs: 120_000,
      intervalMs: 200,
      abortIf: () => (second.isRunning ? undefined : second.tail()),
    });
    const after = putKeys(atKill);
    const again = after.filter((key) => before.includes(key));
    process.stdout.write(
      `kill -9 mid-build: ${before.length} objects written before the kill, ${after.length} after the restart, ${again.length} of them twice (${again.join(', ')})\n`,
    );
    // A path is journaled once its object is written: only those in flight (or written, not yet
    // journaled) at the kill are written again, with the same bytes.
    expect(again.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(after.length).toBeGreaterThan(0);
    const posts = (await bed.ghost.admin.browse('posts', { limit: 100, filter: 'status:published' })).items;
    expect(posts.length).toBeGreaterThanOrEqual(40);
    for (const post of posts) {
      const path = new URL(post.url as string).pathname;
      const [ghost, mirror] = await Promise.all([bed.anonymous(path), bed.mirrored(path)]);
      expect(mirror?.body.equals(ghost.body), path).toBe(true);
    }
    expect(new Set(after).size, 'nothing is written twice after the restart').toBe(after.length);
  }, 300_000);
});
