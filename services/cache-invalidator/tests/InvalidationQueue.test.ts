import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@ghost-ha/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HandledEvent, isHandledEvent } from '../src/ghostEvents.js';
import { InvalidationQueue } from '../src/InvalidationQueue.js';
import { Journal } from '../src/Journal.js';
import type { Batch, JournalRecord } from '../src/JournalRecord.js';
import { planEventPaths } from '../src/planEventPaths.js';
import { SitePaths } from '../src/sitePaths.js';
import { captured } from './support/fixtures.js';
import { newJournalDir } from './support/startInvalidator.js';

const site = new SitePaths(captured.siteUrl);
const logger = createLogger({ service: 'test', level: 'silent' });
// Windows wide enough that a loaded two-core machine (an fsync per accept) cannot stretch two
// accepts meant for one window across two.
const settings = {
  windowMs: 200,
  maxWaitMs: 1_000,
  echoWindowMs: 400,
  limits: { everything: '/*', wildcardThreshold: 20, maxPaths: 300, maxWildcards: 10 },
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('InvalidationQueue', () => {
  let dir: string;
  let journal: Journal<JournalRecord>;
  let batches: { batch: Batch; recovered: boolean }[];
  let queue: InvalidationQueue;

  async function openQueue(): Promise<JournalRecord[]> {
    const opened = await Journal.open<JournalRecord>(dir);
    journal = opened.journal;
    queue = new InvalidationQueue({
      ...settings,
      journal,
      distributionIds: ['D1'],
      logger,
      onBatch: (batch, recovered) => batches.push({ batch, recovered }),
    });
    return opened.records;
  }

  beforeEach(async () => {
    dir = await newJournalDir();
    batches = [];
    await openQueue();
    await queue.restore([]);
  });

  afterEach(async () => {
    queue.close();
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  function accept(event: HandledEvent | 'manual', body: unknown, receivedAt = Date.now()) {
    const plan =
      event === 'manual'
        ? { paths: body as string[], everything: false, siteChanged: false }
        : planEventPaths(event, body, site);
    return queue.accept({ id: randomUUID(), event, receivedAt, plan });
  }

  /** Replays one recorded step (only the events this service subscribes to), as Ghost sent them. */
  async function replayStep(step: string): Promise<Batch | undefined> {
    const before = batches.length;
    for (const webhook of captured.captured.filter((c) => c.step === step)) {
      if (isHandledEvent(webhook.event)) await accept(webhook.event, webhook.body);
    }
    await sleep(settings.echoWindowMs + settings.windowMs + 80);
    expect(batches.length - before).toBeLessThanOrEqual(1);
    return batches[before]?.batch;
  }

  it("treats the site.changed of a publish, edit or delete as that change's echo", async () => {
    for (const step of ['publish post with tags', 'edit title', 'change slug', 'unpublish', 'delete', 'publish page']) {
      const batch = await replayStep(step);
      expect(batch?.paths, step).not.toContain('/*');
      expect(batch?.paths.length, step).toBeGreaterThan(0);
    }
  });

  it('treats a lone site.changed (settings, bulk delete) as everything', async () => {
    expect((await replayStep('site setting'))?.paths).toEqual(['/*']);
    await accept('site.changed', {}, Date.now());
    await sleep(settings.echoWindowMs + 100);
    expect(batches.at(-1)?.batch.paths).toEqual(['/*']);
  });

  it('lets a lone site.changed become /* at most once per period; the rest wait, merged, while other changes go out; a restart sends the waiting ones', async () => {
    queue.close();
    await journal.close();
    const opened = await Journal.open<JournalRecord>(dir);
    journal = opened.journal;
    queue = new InvalidationQueue({
      ...settings,
      siteChangedMinIntervalMs: 5_000,
      journal,
      distributionIds: ['D1'],
      logger,
      onBatch: (batch, recovered) => batches.push({ batch, recovered }),
    });
    await queue.restore(opened.records);
    const lone = async () => {
      await accept('site.changed', {});
      await sleep(settings.echoWindowMs + settings.windowMs + 80);
    };
    await lone();
    expect(batches.map((b) => b.batch.paths)).toEqual([['/*']]);
    await lone();
    await lone();
    await accept('manual', ['/a-post/']);
    await sleep(settings.windowMs + 60);
    expect(batches.map((b) => b.batch.paths)).toEqual([['/*'], ['/a-post/']]);
    expect(queue.waitingSiteChanges).toBe(2);
    expect(queue.depth.events).toBe(2);
    expect(queue.oldestPendingAt()).toBeDefined();
    // Over the period, the waiting ones are one /*.
    await expect.poll(() => batches.length, { timeout: 7_000, interval: 20 }).toBe(3);
    expect(batches.map((b) => b.batch.paths)).toEqual([['/*'], ['/a-post/'], ['/*']]);
    expect(batches.at(-1)?.batch.events).toHaveLength(2);
    expect(queue.waitingSiteChanges).toBe(0);
    // One more waits again; it is journaled, and the next start sends it.
    await lone();
    expect(queue.waitingSiteChanges).toBe(1);
    queue.close();
    await journal.close();
    batches = [];
    const records = await openQueue();
    await queue.restore(records);
    await sleep(settings.windowMs + 60);
    // Batches no distribution accepted are resent too (recovered); the waiting events are one new /*.
    expect(batches.filter((b) => !b.recovered).map((b) => b.batch.paths)).toEqual([['/*']]);
  });

  it('merges events inside the window into one batch, duplicates collapsed', async () => {
    await accept('manual', ['/a/', '/b/']);
    await sleep(20);
    await accept('manual', ['/b/', '/c/']);
    await sleep(settings.windowMs + 60);
    expect(batches.map((b) => b.batch.paths)).toEqual([['/a/', '/b/', '/c/']]);
    expect(batches[0]?.batch.events).toHaveLength(2);
  });

  it('cuts at the maximum wait even while events keep coming', async () => {
    const started = Date.now();
    while (batches.length === 0 && Date.now() - started < 2000) {
      await accept('manual', [`/p${Date.now()}/`]);
      await sleep(settings.windowMs / 3);
    }
    // The first batch is cut at the maximum wait; a loaded machine may let the events after it form a
    // second one before the loop looks again.
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(settings.maxWaitMs + 400);
  });

  it('after a restart, cuts journaled open events and resends unfinished batches', async () => {
    await accept('manual', ['/sent/']);
    await sleep(settings.windowMs + 50);
    const [first] = batches;
    if (!first) throw new Error('no batch');
    await accept('manual', ['/still-open/']);
    // A crash: nothing else happens; the next process reads the journal.
    queue.close();
    await journal.close();
    batches = [];
    const records = await openQueue();
    await queue.restore(records);
    expect(batches).toEqual([{ batch: first.batch, recovered: true }]);
    await sleep(50);
    expect(batches.map((b) => b.batch.paths)).toEqual([['/sent/'], ['/still-open/']]);
  });

  it('forgets a batch once every distribution accepted it, and empties the journal when idle', async () => {
    await accept('manual', ['/x/']);
    await sleep(settings.windowMs + 50);
    const batch = batches[0]?.batch;
    if (!batch) throw new Error('no batch');
    expect(queue.depth).toEqual({ events: 0, batches: 1 });
    expect(queue.oldestPendingAt()).toBeTypeOf('number');
    await queue.markSent(batch.id, 'D1', 'I1');
    expect(queue.depth).toEqual({ events: 0, batches: 0 });
    expect(queue.oldestPendingAt()).toBeUndefined();
    expect(await readFile(join(dir, 'journal.log'), 'utf8')).toBe('');
  });

  it('keeps refused paths quarantined through rewrites and restarts; a release is one batch for that distribution, journaled with it', async () => {
    const restart = async () => {
      queue.close();
      await journal.close();
      batches = [];
      const records = await openQueue();
      await queue.restore(records);
    };
    await accept('manual', ['/ok/', '/refused/']);
    await sleep(settings.windowMs + 50);
    const batch = batches[0]?.batch;
    if (!batch) throw new Error('no batch');
    const refusal = { paths: ['/refused/'], error: { name: 'InvalidArgument', message: 'invalid path' } };
    await queue.markSent(batch.id, 'D1', 'I1', [refusal]);
    // The batch is done (the journal is rewritten as idle), the quarantine is not.
    expect(queue.depth).toEqual({ events: 0, batches: 0 });
    expect(queue.oldestPendingAt()).toBeUndefined();
    const [entry] = queue.quarantined;
    expect(entry).toMatchObject({
      distributionId: 'D1',
      batchId: batch.id,
      ...refusal,
      id: expect.stringMatching(/^q-/),
    });
    await restart();
    expect(queue.quarantined).toEqual([entry]);
    expect(batches).toEqual([]);
    expect(await queue.release(['q-00000000000000000000'])).toEqual([]);
    expect(await queue.release('all')).toEqual([entry]);
    expect(queue.quarantined).toEqual([]);
    const [released] = batches;
    expect(released?.batch).toMatchObject({ paths: ['/refused/'], targets: ['D1'], releases: [entry?.id] });
    // A crash before CloudFront took it: the release is resent, the entry stays released.
    await restart();
    expect(queue.quarantined).toEqual([]);
    expect(batches).toEqual([{ batch: released?.batch, recovered: true }]);
    await queue.markSent(released?.batch.id ?? '', 'D1', 'I2');
    expect(queue.depth.batches).toBe(0);
    await restart();
    expect(queue.quarantined).toEqual([]);
    expect(batches).toEqual([]);
  });

  it('gives the same batch the same id (CallerReference) and different batches different ids', async () => {
    await accept('manual', ['/same/']);
    await sleep(settings.windowMs + 50);
    await accept('manual', ['/same/']);
    await sleep(settings.windowMs + 50);
    const [a, b] = batches.map((x) => x.batch.id);
    expect(a).toMatch(/^ghost-ha-[0-9a-f]{40}$/);
    expect(a).not.toBe(b);
  });
});
