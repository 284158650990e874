import { appendFile, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalWriteError } from '../src/errors.js';
import type { HandledEvent } from '../src/ghostEvents.js';
import { Journal } from '../src/Journal.js';
import type { JournalRecord } from '../src/JournalRecord.js';
import { encodeJournalFrame, readJournalFrames } from '../src/journalFrames.js';
import { planEventPaths } from '../src/planEventPaths.js';
import { SitePaths } from '../src/sitePaths.js';
import { FaultyFileSystem, type StorageFaults } from './support/FaultyFileSystem.js';
import { captured, webhookOf } from './support/fixtures.js';

interface Entry {
  n: number;
}

const site = new SitePaths(captured.siteUrl);
const SMALL: JournalRecord = { type: 'sent', batchId: 'b', distributionId: 'D', invalidationId: 'I' };

/** An accepted-event record as the service journals it (a real plan from a recorded Ghost webhook). */
function eventRecord(n: number): JournalRecord {
  const hook = webhookOf('publish post with tags', 'post.published');
  return {
    type: 'event',
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    event: hook.event,
    receivedAt: 1_790_000_000_000 + n,
    plan: planEventPaths(hook.event as HandledEvent, hook.body, site),
  };
}

describe('Journal', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-test-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every resolved append across a reopen, concurrent appends included', async () => {
    const { journal, records } = await Journal.open<Entry>(join(dir, 'nested'));
    expect(records).toEqual([]);
    await Promise.all(Array.from({ length: 200 }, (_, n) => journal.append({ n })));
    await journal.close();

    const reopened = await Journal.open<Entry>(join(dir, 'nested'));
    expect(reopened.records.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(reopened.skipped).toEqual([]);
    await reopened.journal.close();
  });

  it('skips and reports a torn last line left by a crash mid-write', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.append({ n: 1 });
    await journal.close();
    const whole = (await readFile(join(dir, 'journal.log'))).length;
    await appendFile(join(dir, 'journal.log'), '{"n":2');

    const reopened = await Journal.open<Entry>(dir);
    expect(reopened.records).toEqual([{ n: 1 }]);
    expect(reopened.skipped).toEqual([{ offset: whole, bytes: 6, reason: 'torn' }]);
    await reopened.journal.close();
  });

  it('reads journals written before records had a checksum', async () => {
    await writeFile(join(dir, 'journal.log'), '{"n":1}\n{"n":2}\n{"n":3');
    const { journal, records, skipped } = await Journal.open<Entry>(dir);
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(skipped).toEqual([{ offset: 16, bytes: 6, reason: 'torn' }]);
    await journal.append({ n: 4 });
    await journal.close();
    expect((await Journal.open<Entry>(dir)).records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
  });

  it('skips a line whose bytes changed (checksum), keeping the whole records around it', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.appendMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await journal.close();
    const data = await readFile(join(dir, 'journal.log'));
    const second = data.indexOf('{"n":2}');
    data[second + 5] = '7'.charCodeAt(0);
    // A page that never reached the disk reads back as zeros.
    const third = data.indexOf('{"n":3}');
    data.fill(0, third - 9, third + 3);
    await writeFile(join(dir, 'journal.log'), data);

    const reopened = await Journal.open<Entry>(dir);
    expect(reopened.records).toEqual([{ n: 1 }]);
    expect(reopened.skipped.map((s) => s.reason)).toEqual(['checksum', 'unreadable']);
  });

  it('recovers every whole record after a crash at every byte offset of a record, and appends cleanly after it', async () => {
    const before = [eventRecord(1), eventRecord(2)];
    const torn = eventRecord(3);
    const after = eventRecord(4);
    const prefix = Buffer.from(before.map(encodeJournalFrame).join(''));
    const frame = Buffer.from(encodeJournalFrame(torn));
    expect(frame.length).toBeGreaterThan(300);
    const path = join(dir, 'journal.log');
    for (let offset = 0; offset <= frame.length; offset++) {
      await writeFile(path, Buffer.concat([prefix, frame.subarray(0, offset)]));
      const { journal, records, skipped } = await Journal.open<JournalRecord>(dir);
      const whole = offset === frame.length;
      expect(records).toEqual(whole ? [...before, torn] : before);
      expect(skipped).toEqual(offset === 0 || whole ? [] : [{ offset: prefix.length, bytes: offset, reason: 'torn' }]);
      await journal.append(after);
      await journal.close();
      const reopened = await Journal.open<JournalRecord>(dir);
      expect(reopened.records).toEqual(whole ? [...before, torn, after] : [...before, after]);
      expect(reopened.skipped).toEqual([]);
    }
  });

  it('a crash at every byte offset of a group commit loses no earlier record and leaves no torn one behind', async () => {
    const path = join(dir, 'journal.log');
    const group = [eventRecord(10), { type: 'sent', batchId: 'b', distributionId: 'D', invalidationId: 'I' } as const];
    const groupBytes = Buffer.byteLength(group.map(encodeJournalFrame).join(''));
    for (let offset = 0; offset < groupBytes; offset += 3) {
      await rm(path, { force: true });
      const layer = new FaultyFileSystem();
      const { journal } = await Journal.open<JournalRecord>(dir, { fileSystem: layer });
      await journal.append(eventRecord(1));
      layer.faults.crashAfterBytes = offset;
      await expect(journal.appendMany(group)).rejects.toThrow(JournalWriteError);
      expect(layer.crashed).toBe(true);

      const { journal: restarted, records } = await Journal.open<JournalRecord>(dir);
      const firstFrame = Buffer.byteLength(encodeJournalFrame(group[0]));
      // Whole records of an unanswered write may come back (harmless: nobody was told 2xx); torn ones never.
      expect(records).toEqual(offset >= firstFrame ? [eventRecord(1), group[0]] : [eventRecord(1)]);
      await restarted.append(eventRecord(2));
      await restarted.close();
      const final = await Journal.open<JournalRecord>(dir);
      expect(final.records.at(-1)).toEqual(eventRecord(2));
      expect(final.skipped).toEqual([]);
    }
  });

  it('continues short writes until every byte is written', async () => {
    const layer = new FaultyFileSystem();
    layer.faults.maxBytesPerWrite = 7;
    const { journal } = await Journal.open<JournalRecord>(dir, { fileSystem: layer });
    await Promise.all([journal.append(eventRecord(1)), journal.append(eventRecord(2))]);
    expect(layer.tornWrites.length).toBeGreaterThan(100);
    await journal.close();
    const reopened = await Journal.open<JournalRecord>(dir);
    expect(reopened.records).toEqual([eventRecord(1), eventRecord(2)]);
    expect(reopened.skipped).toEqual([]);
  });

  const failures: [string, StorageFaults][] = [
    ['EIO on write, after a short write', { writeError: 'EIO', tornBytes: 300 }],
    ['EIO on write, nothing written', { writeError: 'EIO' }],
    ['a full volume (short write, then ENOSPC)', { spaceLeft: 200 }],
    ['EIO on fdatasync', { syncError: 'EIO' }],
    ['a read-only volume', { readOnly: true }],
  ];

  for (const [name, faults] of failures) {
    it(`${name}: rejects the append, reports it until storage is back, then appends on a clean boundary`, async () => {
      const layer = new FaultyFileSystem();
      const { journal } = await Journal.open<JournalRecord>(dir, { fileSystem: layer });
      await journal.append(eventRecord(1));
      layer.faults = { ...faults };
      const failed = await Promise.allSettled([journal.append(eventRecord(2)), journal.append(eventRecord(3))]);
      expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(JournalWriteError);
      expect(journal.lastError?.message).toMatch(/EIO|ENOSPC|EROFS/);
      expect(await journal.health()).toBeInstanceOf(JournalWriteError);
      expect(await journal.health()).toBeInstanceOf(JournalWriteError);

      layer.faults = {};
      expect(await journal.health()).toBeUndefined();
      expect(journal.lastError).toBeUndefined();
      // Shorter than what the failed write may have left: only truncation leaves a clean end.
      await journal.append(SMALL);
      await journal.close();
      expect((await readdir(dir)).sort()).toEqual(['journal.log']);
      const reopened = await Journal.open<JournalRecord>(dir);
      expect(reopened.records).toEqual([eventRecord(1), SMALL]);
      expect(reopened.skipped).toEqual([]);
    });
  }

  it('opens on a read-only volume (reading works), and writes once it is writable again', async () => {
    const { journal: first } = await Journal.open<Entry>(dir);
    await first.append({ n: 1 });
    await first.close();
    await appendFile(join(dir, 'journal.log'), '0123');
    const layer = new FaultyFileSystem();
    layer.faults.readOnly = true;
    const { journal, records, skipped } = await Journal.open<Entry>(dir, { fileSystem: layer });
    expect(records).toEqual([{ n: 1 }]);
    expect(skipped).toHaveLength(1);
    expect(await journal.health()).toBeInstanceOf(JournalWriteError);
    await expect(journal.append({ n: 2 })).rejects.toThrow(/EROFS/);
    layer.faults.readOnly = false;
    await journal.append({ n: 3 });
    await journal.close();
    expect(readJournalFrames(await readFile(join(dir, 'journal.log')))).toMatchObject({
      records: [{ n: 1 }, { n: 3 }],
      skipped: [],
    });
  });

  it('a rewrite that fails on a full volume leaves the old file and no temp file', async () => {
    const layer = new FaultyFileSystem();
    const { journal } = await Journal.open<Entry>(dir, { fileSystem: layer });
    await journal.appendMany([{ n: 1 }, { n: 2 }]);
    layer.faults.spaceLeft = 10;
    await expect(journal.rewrite(() => [{ n: 2 }])).rejects.toThrow(/ENOSPC/);
    expect((await readdir(dir)).sort()).toEqual(['journal.log']);
    layer.faults = {};
    await journal.append({ n: 3 });
    await journal.close();
    expect((await Journal.open<Entry>(dir)).records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('truncates a torn tail before the next append even when the file was cut outside the journal', async () => {
    const { journal } = await Journal.open<JournalRecord>(dir);
    await journal.appendMany([eventRecord(1), eventRecord(2)]);
    await journal.close();
    const size = (await readFile(join(dir, 'journal.log'))).length;
    await truncate(join(dir, 'journal.log'), size - 3);
    const reopened = await Journal.open<JournalRecord>(dir);
    await reopened.journal.append(SMALL);
    await reopened.journal.close();
    const text = await readFile(join(dir, 'journal.log'), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(await Journal.open<JournalRecord>(dir)).toMatchObject({ records: [eventRecord(1), SMALL], skipped: [] });
  });

  it('rewrites to the live records, keeping appends made while the rewrite was queued', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.append({ n: 1 });
    await journal.append({ n: 2 });
    let live: Entry[] = [{ n: 2 }];
    const rewritten = journal.rewrite(() => live);
    const late = journal.append({ n: 3 });
    live = [{ n: 2 }];
    await Promise.all([rewritten, late]);
    await journal.close();

    const text = await readFile(join(dir, 'journal.log'), 'utf8');
    expect(text).toBe(`${encodeJournalFrame({ n: 2 })}${encodeJournalFrame({ n: 3 })}`);
    expect(text).toMatch(/^[0-9a-f]{8} \{"n":2\}\n[0-9a-f]{8} \{"n":3\}\n$/);
  });

  it('rejects appends and rewrites once closed', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.close();
    await expect(journal.append({ n: 1 })).rejects.toThrow(/closed/);
    await expect(journal.rewrite(() => [])).rejects.toThrow(/closed/);
  });
});
