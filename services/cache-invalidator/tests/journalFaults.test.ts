// @module-tag integration
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { createCloudFrontClient } from '../src/createCloudFrontClient.js';
import type { JournalFileSystem } from '../src/JournalFileSystem.js';
import { readJournalFrames } from '../src/journalFrames.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { FaultyFileSystem, type StorageFaults } from './support/FaultyFileSystem.js';
import { captured, webhookOf } from './support/fixtures.js';
import { newJournalDir, startInvalidator } from './support/startInvalidator.js';
import { TestVolume } from './support/TestVolume.js';

const SECRET = 'journal-faults-secret';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const recorded = webhookOf('publish post with tags', 'post.published').body as {
  post: { current: Record<string, unknown> };
};

/** Ghost's recorded post.published, re-targeted at the post `slug` (its URL is `/<slug>/`). */
function publishOf(slug: string): string {
  const body = structuredClone(recorded);
  Object.assign(body.post.current, {
    id: slug.padEnd(24, '0').slice(0, 24),
    slug,
    url: `${captured.siteUrl}/${slug}/`,
  });
  return JSON.stringify(body);
}

/** What each change was answered: its own path (`/<slug>/`) and the HTTP status. */
class Ledger {
  readonly answers = new Map<string, number>();

  async publish(service: CacheInvalidator, slug: string): Promise<number> {
    const body = publishOf(slug);
    const response = await fetch(`${service.url}/webhooks/ghost/post.published`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) },
      body,
    });
    await response.arrayBuffer();
    this.answers.set(`/${slug}/`, response.status);
    return response.status;
  }

  /** Publishes `slug-1`, `slug-2`... until one is refused (at most `max`); returns the statuses. */
  async publishUntilRefused(service: CacheInvalidator, slug: string, max: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let n = 1; n <= max; n++) {
      statuses.push(await this.publish(service, `${slug}-${n}`));
      if (statuses.at(-1) !== 202) break;
    }
    return statuses;
  }

  get accepted(): string[] {
    return [...this.answers].filter(([, status]) => status === 202).map(([path]) => path);
  }

  get refused(): string[] {
    return [...this.answers].filter(([, status]) => status !== 202).map(([path]) => path);
  }
}

/** The journal's check in the last round (`/health`); `ready` is what `/health/ready` answers. */
async function journalCheck(service: CacheInvalidator): Promise<{ ready: number; status: string; detail: string }> {
  const ready = (await fetch(`${service.url}/health/ready`)).status;
  const body = (await (await fetch(`${service.url}/health`)).json()) as {
    checks: Record<string, { status: string; output?: string }[]>;
  };
  const entry = body.checks['journal:writable']?.[0];
  return { ready, status: entry?.status ?? 'missing', detail: entry?.output ?? '' };
}

/** Reads one kind from the queue-depth gauge's values. */
function depthOf(kind: string): (gauge: { values: { labels: Record<string, unknown>; value: number }[] }) => number {
  return (gauge) => gauge.values.find((value) => value.labels.kind === kind)?.value ?? 0;
}

async function metric(service: CacheInvalidator, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe('the journal under storage faults: every change answered 2xx is invalidated exactly once', () => {
  let moto: MotoServer;
  let cloudFront: CloudFrontClient;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    moto = await MotoServer.start();
    cloudFront = motoCloudFront(moto);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await moto?.destroy();
  });

  async function start(
    distributionId: string,
    journalDir: string,
    fileSystem: JournalFileSystem | undefined,
    env: Record<string, string> = {},
    client: CloudFrontClient = cloudFront,
  ): Promise<CacheInvalidator> {
    const service = await startInvalidator(
      {
        SITE_URL: captured.siteUrl,
        CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
        WEBHOOK_SECRET: SECRET,
        JOURNAL_DIR: journalDir,
        ...env,
      },
      client,
      fileSystem ? { fileSystem } : {},
    );
    cleanups.push(() => service.stop());
    return service;
  }

  /**
   * Stops without waiting for CloudFront (grace 0 in `env`), as a restart would, then lets a
   * request already in flight land: a process that is gone sends nothing more.
   */
  async function restart(service: CacheInvalidator): Promise<void> {
    await service.stop();
    await sleep(300);
  }

  /** Waits until every accepted change reached CloudFront, then checks none came twice and no refused one came. */
  async function expectExactlyOnce(distributionId: string, ledger: Ledger): Promise<void> {
    const counts = async () => {
      const invalidations = await invalidationsIn(cloudFront, distributionId);
      expect(invalidations.flatMap((invalidation) => invalidation.paths)).not.toContain('/*');
      const count = new Map<string, number>();
      for (const path of invalidations.flatMap((invalidation) => invalidation.paths)) {
        count.set(path, (count.get(path) ?? 0) + 1);
      }
      return count;
    };
    await expect
      .poll(
        async () => {
          const count = await counts();
          return ledger.accepted.filter((path) => !count.has(path));
        },
        { timeout: 20_000, interval: 200 },
      )
      .toEqual([]);
    await sleep(1000);
    const count = await counts();
    expect(ledger.accepted.filter((path) => count.get(path) !== 1)).toEqual([]);
    expect(ledger.refused.filter((path) => count.has(path))).toEqual([]);
  }

  /** The common course: accepted, fault (503s, readiness fails), storage back (clears by itself, 202s), restart. */
  async function faultCourse(options: {
    name: string;
    journalDir: string;
    fileSystem: JournalFileSystem | undefined;
    injectFault: () => Promise<void>;
    clearFault: () => Promise<void>;
    expectCode: RegExp;
  }): Promise<void> {
    const distributionId = await createDistribution(cloudFront, options.name);
    const ledger = new Ledger();
    const env = { SHUTDOWN_GRACE_MS: '0' };
    const first = await start(distributionId, options.journalDir, options.fileSystem, env);
    for (const n of [1, 2, 3]) expect(await ledger.publish(first, `${options.name}-before-${n}`)).toBe(202);

    await options.injectFault();
    const statuses = await ledger.publishUntilRefused(first, `${options.name}-during`, 40);
    expect(statuses.at(-1)).toBe(503);
    // Concurrent requests share one failed write, longer than the single ones after it.
    const together = 'abcdefgh'.split('').map((n) => ledger.publish(first, `${options.name}-during-${n}`));
    expect(await Promise.all(together)).toEqual(Array(8).fill(503));
    // The checks run every 100 ms here; a probe reads the last round.
    // A round that ran past the check's 80 ms limit on a loaded machine fails as "still running": the
    // error's code is awaited over a few rounds.
    await expect
      .poll(() => journalCheck(first), { timeout: 4000 })
      .toMatchObject({ ready: 503, status: 'fail', detail: expect.stringMatching(options.expectCode) });
    expect(
      await metric(
        first,
        /cache_invalidator_webhooks_total\{event="post\.published",result="journal_unavailable"[^}]*\} (\d+)/,
      ),
    ).toBe(ledger.refused.length);

    await options.clearFault();
    // Clears without another webhook: readiness probes the journal's directory.
    await expect.poll(async () => (await journalCheck(first)).status, { timeout: 5000, interval: 100 }).toBe('pass');
    for (const n of [1, 2, 3]) expect(await ledger.publish(first, `${options.name}-after-${n}`)).toBe(202);
    // Nothing torn was left inside the file: at most a tail from the failed write, gone by now.
    const frames = readJournalFrames(await readFile(join(options.journalDir, 'journal.log')));
    expect(frames.skipped).toEqual([]);
    await sleep(150);
    for (const n of [1, 2]) expect(await ledger.publish(first, `${options.name}-pending-${n}`)).toBe(202);
    await restart(first);

    const second = await start(distributionId, options.journalDir, undefined);
    await expectExactlyOnce(distributionId, ledger);
    expect((await journalCheck(second)).ready).toBe(200);
    expect(ledger.refused.length).toBeGreaterThan(0);
    await second.stop();
  }

  it('volume full: a small tmpfs (or the fault layer where mounting is not permitted)', async () => {
    const volume = await TestVolume.create(256 * 1024);
    cleanups.push(() => volume.destroy());
    await faultCourse({
      name: 'full',
      journalDir: volume.journalDir,
      fileSystem: volume.fileSystem,
      injectFault: () => volume.fill(0),
      clearFault: () => volume.free(),
      expectCode: /ENOSPC/,
    });
  });

  const layered: [string, StorageFaults, RegExp][] = [
    ['eio-write', { writeError: 'EIO', tornBytes: 150 }, /EIO/],
    ['eio-fdatasync', { syncError: 'EIO' }, /EIO/],
    ['short-then-full', { maxBytesPerWrite: 64, spaceLeft: 300 }, /ENOSPC/],
  ];
  for (const [name, faults, expectCode] of layered) {
    it(`${name} (fault layer)`, async () => {
      const layer = new FaultyFileSystem();
      const journalDir = await newJournalDir();
      cleanups.push(() => rm(journalDir, { recursive: true, force: true }));
      await faultCourse({
        name,
        journalDir,
        fileSystem: layer,
        injectFault: async () => {
          layer.faults = { ...faults };
        },
        clearFault: async () => {
          layer.faults = {};
        },
        expectCode,
      });
      if (name !== 'eio-fdatasync') expect(layer.tornWrites.length).toBeGreaterThan(0);
    });
  }

  it('short writes alone: continued until whole, every change accepted', async () => {
    const layer = new FaultyFileSystem();
    const journalDir = await newJournalDir();
    cleanups.push(() => rm(journalDir, { recursive: true, force: true }));
    const distributionId = await createDistribution(cloudFront, 'short');
    const ledger = new Ledger();
    const service = await start(distributionId, journalDir, layer, { SHUTDOWN_GRACE_MS: '0' });
    layer.faults = { maxBytesPerWrite: 13 };
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, n) => ledger.publish(service, `short-${n}`)));
    expect(statuses).toEqual(Array(8).fill(202));
    expect(layer.tornWrites.length).toBeGreaterThan(50);
    expect((await journalCheck(service)).ready).toBe(200);
    await restart(service);
    const second = await start(distributionId, journalDir, undefined);
    await expectExactlyOnce(distributionId, ledger);
    await second.stop();
  });

  it('the directory remounted read-only (tmpfs, or the fault layer), with a restart while it lasts', async () => {
    const volume = await TestVolume.create(1024 * 1024);
    cleanups.push(() => volume.destroy());
    const distributionId = await createDistribution(cloudFront, 'read-only');
    const ledger = new Ledger();
    const env = { SHUTDOWN_GRACE_MS: '0' };
    // The first run cannot reach CloudFront: its batches stay journaled for the runs after it.
    const unreachable = createCloudFrontClient({ ...moto.awsEnv(), AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    const first = await start(distributionId, volume.journalDir, volume.fileSystem, env, unreachable);
    for (const n of [1, 2, 3]) expect(await ledger.publish(first, `ro-before-${n}`)).toBe(202);
    await expect.poll(() => first.metrics.queueDepth.get().then(depthOf('batches')), { timeout: 5000 }).toBe(1);

    await volume.readOnly();
    // Shown before any write fails: the directory no longer takes writes.
    await expect.poll(() => journalCheck(first), { timeout: 2000 }).toMatchObject({ ready: 503, status: 'fail' });
    const idle = await journalCheck(first);
    expect(idle.detail).toMatch(/EROFS/);
    expect(await ledger.publish(first, 'ro-during-1')).toBe(503);
    await restart(first);

    // Starts on the read-only volume: reads the journal and sends its batch (but cannot journal
    // that CloudFront took it); refuses new work.
    const second = await start(distributionId, volume.journalDir, volume.fileSystem, env);
    expect((await journalCheck(second)).status).toBe('fail');
    expect(await ledger.publish(second, 'ro-during-2')).toBe(503);
    await expect
      .poll(async () => (await invalidationsIn(cloudFront, distributionId)).flatMap((i) => i.paths), {
        timeout: 10_000,
        interval: 200,
      })
      .toContain('/ro-before-1/');

    await volume.writable();
    await expect.poll(async () => (await journalCheck(second)).status, { timeout: 5000, interval: 100 }).toBe('pass');
    for (const n of [1, 2]) expect(await ledger.publish(second, `ro-after-${n}`)).toBe(202);
    await restart(second);

    // A batch the read-only run sent may still be in the journal as unsent: found by its
    // CallerReference, not sent again.
    const third = await start(distributionId, volume.journalDir, volume.fileSystem);
    await expectExactlyOnce(distributionId, ledger);
    expect((await journalCheck(third)).ready).toBe(200);
    await third.stop();
  });

  it('a change refused for the journal does not make the site.changed beside it its echo', async () => {
    const layer = new FaultyFileSystem();
    const journalDir = await newJournalDir();
    cleanups.push(() => rm(journalDir, { recursive: true, force: true }));
    const distributionId = await createDistribution(cloudFront, 'refused-echo');
    const ledger = new Ledger();
    const service = await start(distributionId, journalDir, layer);
    layer.faults = { writeError: 'EIO' };
    expect(await ledger.publish(service, 'refused-post')).toBe(503);
    layer.faults = {};
    // Ghost's site.changed for that publish: accepted, and with no accepted change to explain it, it means everything.
    const siteChanged = JSON.stringify(webhookOf('publish post with tags', 'site.changed').body);
    const response = await fetch(`${service.url}/webhooks/ghost/site.changed`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Ghost-Signature': signGhostPayload(SECRET, siteChanged, Date.now()),
      },
      body: siteChanged,
    });
    expect(response.status).toBe(202);
    await expect
      .poll(async () => (await invalidationsIn(cloudFront, distributionId)).map((i) => i.paths), { timeout: 10_000 })
      .toEqual([['/*']]);
    await service.stop();
  });

  it('a crash at every byte offset of a record: restart, recover every whole record, skip the torn one', async () => {
    // On a tmpfs where permitted: hundreds of restarts, each a few fsyncs.
    const volume = await TestVolume.create(4 * 1024 * 1024);
    cleanups.push(() => volume.destroy());
    const journalDir = volume.journalDir;
    const stride = Number(process.env.CRASH_OFFSET_STRIDE ?? 1);
    let recordBytes = Number.POSITIVE_INFINITY;
    let torn = 0;
    // moto lists at most 100 invalidations per call: a fresh distribution every few offsets.
    let distributionId = '';
    let ledger = new Ledger();
    for (let offset = 0, round = 0; offset <= recordBytes; offset += stride, round++) {
      if (round % 25 === 0) {
        if (distributionId) await expectExactlyOnce(distributionId, ledger);
        distributionId = await createDistribution(cloudFront, `crash-offsets-${offset}`);
        ledger = new Ledger();
      }
      const tag = String(offset).padStart(4, '0');
      const layer = new FaultyFileSystem();
      const doomed = await start(distributionId, journalDir, layer, {
        SHUTDOWN_GRACE_MS: '0',
        INVALIDATION_WINDOW_MS: '30000',
        INVALIDATION_MAX_WAIT_MS: '60000',
      });
      expect(await ledger.publish(doomed, `crash-${tag}-whole`)).toBe(202);
      // The offsets are those of journal.log's record; the signature written beside it (signatures.log) is not counted.
      layer.faults = { crashAfterBytes: offset, crashCountsOnly: 'journal.log' };
      // The record being written when the process dies: never answered 2xx (the 503 stands for no answer).
      const status = await ledger.publish(doomed, `crash-${tag}-torn`);
      const crashedMidRecord = layer.crashed;
      if (crashedMidRecord) {
        recordBytes = Math.min(recordBytes, layer.tornWrites.at(-1)?.asked ?? recordBytes);
        expect(status).toBe(503);
      } else {
        expect(status).toBe(202);
        recordBytes = offset;
      }
      // Past the record's end, the process dies on its next write (the batch cut at stop).
      await doomed.stop();

      // Stops only once CloudFront has what it holds, so the next round starts on a settled journal.
      const restarted = await start(distributionId, journalDir, undefined, { SHUTDOWN_GRACE_MS: '10000' });
      const skipped = await metric(restarted, /cache_invalidator_journal_skipped_records_total\S* (\d+)/);
      expect(skipped, `offset ${offset}`).toBe(offset > 0 && crashedMidRecord ? 1 : 0);
      torn += skipped;
      expect(await ledger.publish(restarted, `crash-${tag}-next`)).toBe(202);
      expect((await journalCheck(restarted)).ready).toBe(200);
      await restarted.stop();
    }
    expect(recordBytes).toBeGreaterThan(300);
    expect(torn).toBeGreaterThan(recordBytes / stride - 3);
    await expectExactlyOnce(distributionId, ledger);
  }, 300_000);
});
