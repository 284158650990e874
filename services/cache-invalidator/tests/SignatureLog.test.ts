import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { readJournalFrames } from '../src/journalFrames.js';
import { RecentSignatures } from '../src/RecentSignatures.js';
import { SIGNATURE_LOG_FILE, SignatureLog, type SignatureRecord } from '../src/SignatureLog.js';
import { FaultyFileSystem } from './support/FaultyFileSystem.js';
import { newJournalDir } from './support/startInvalidator.js';

const logger = createLogger({ service: 'signature-log-test', level: 'silent' });
const WINDOW_MS = 300_000;

/** A start of the service on `dir`: a fresh memory loaded from the file. */
async function open(dir: string, nowMs: number, maxEntries = 5, fileSystem?: FaultyFileSystem) {
  const recent = new RecentSignatures({ toleranceMs: WINDOW_MS, maxEntries });
  const log = await SignatureLog.open({
    dir,
    recent,
    logger,
    now: () => nowMs,
    ...(fileSystem ? { fileSystem } : {}),
  });
  return { recent, log };
}

async function recordsIn(dir: string): Promise<SignatureRecord[]> {
  return readJournalFrames<SignatureRecord>(await readFile(join(dir, SIGNATURE_LOG_FILE))).records;
}

describe('SignatureLog: the replay memory on disk', () => {
  it('is bounded on load as the memory is: only signatures within the window, at most maxEntries, released ones not', async () => {
    const dir = await newJournalDir();
    const t0 = 1_790_000_000_000;
    const first = await open(dir, t0);
    for (const [key, at] of [
      ['old', t0 - WINDOW_MS + 1_000],
      ['a', t0],
      ['b', t0 + 1],
      ['c', t0 + 2],
      ['given back', t0 + 3],
    ] as const) {
      expect(first.recent.claim(key, at, t0)).toBe(true);
      await first.log.record(key, at);
    }
    first.recent.release('given back');
    await first.log.release('given back');
    await first.log.close();

    // Two seconds later 'old' is outside the window: not remembered, and gone from the rewritten file.
    const second = await open(dir, t0 + 2_000);
    expect(second.recent.live(t0 + 2_000).map(([key]) => key)).toEqual(['a', 'b', 'c']);
    expect(await recordsIn(dir)).toEqual([
      { key: 'a', at: t0 },
      { key: 'b', at: t0 + 1 },
      { key: 'c', at: t0 + 2 },
    ]);
    expect(second.recent.claim('b', t0 + 1, t0 + 2_000)).toBe(false);
    await second.log.close();

    // A memory of 2 keeps the 2 signed last.
    const small = await open(dir, t0 + 2_000, 2);
    expect(small.recent.live(t0 + 2_000).map(([key]) => key)).toEqual(['b', 'c']);
    await small.log.close();

    const later = await open(dir, t0 + WINDOW_MS + 10);
    expect(later.recent.size).toBe(0);
    expect(await recordsIn(dir)).toEqual([]);
    await later.log.close();
  });

  it('rewrites the file with what is remembered once it holds more than twice that (plus 1,000)', async () => {
    const dir = await newJournalDir();
    const now = 1_790_000_000_000;
    const { recent, log } = await open(dir, now, 5);
    for (let n = 0; n < 1_200; n += 1) {
      recent.claim(`k${n}`, now, now);
      await log.record(`k${n}`, now);
    }
    await log.close();
    const records = await recordsIn(dir);
    expect(records.length).toBeLessThanOrEqual(2 * 5 + 1_000);
    // The last ones are on disk whatever the rewrites did.
    expect(records.slice(-5)).toEqual([1_195, 1_196, 1_197, 1_198, 1_199].map((n) => ({ key: `k${n}`, at: now })));
  });

  it('a failed write is logged, never thrown: the delivery was accepted by the event journal', async () => {
    const dir = await newJournalDir();
    const fileSystem = new FaultyFileSystem();
    const { log } = await open(dir, Date.now(), 5, fileSystem);
    fileSystem.faults = { writeError: 'EIO' };
    await expect(log.record('k', Date.now())).resolves.toBeUndefined();
    await log.close();
  });
});
