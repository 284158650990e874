import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../src/Journal.js';

interface Entry {
  n: number;
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
    await reopened.journal.close();
  });

  it('skips a torn last line left by a crash mid-write', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.append({ n: 1 });
    await journal.close();
    await appendFile(join(dir, 'journal.log'), '{"n":2');

    const reopened = await Journal.open<Entry>(dir);
    expect(reopened.records).toEqual([{ n: 1 }]);
    await reopened.journal.close();
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
    expect(text).toBe('{"n":2}\n{"n":3}\n');
  });

  it('rejects appends once closed', async () => {
    const { journal } = await Journal.open<Entry>(dir);
    await journal.close();
    await expect(journal.append({ n: 1 })).rejects.toThrow(/closed/);
  });
});
