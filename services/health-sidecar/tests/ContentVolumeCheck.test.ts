// @module-tag integration
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContentVolumeCheck } from '../src/ContentVolumeCheck.js';
import { ContentVolume } from './sidecarFixture.js';

const FILLER = 'filler';

/** Writes zeros until the volume refuses more: ENOSPC, as a full EFS or disk would answer. */
async function fill(path: string): Promise<void> {
  const handle = await open(join(path, FILLER), 'w');
  const chunk = Buffer.alloc(256 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

describe('ContentVolumeCheck on a real tmpfs', () => {
  let volume: ContentVolume;
  let check: ContentVolumeCheck;
  const probeFiles = async () => (await readdir(volume.path)).filter((name) => name !== FILLER);

  beforeAll(async () => {
    volume = await ContentVolume.create();
    check = new ContentVolumeCheck({ contentPath: volume.path, now: Date.now });
  });

  afterEach(async () => {
    await volume.setReadOnly(false);
    await rm(join(volume.path, FILLER), { force: true });
  });

  afterAll(async () => {
    await volume?.destroy();
  });

  it('passes on a writable volume and leaves no probe file', async () => {
    expect(await check.run(new AbortController().signal)).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(await probeFiles()).toEqual([]);
  });

  it('fails with "no space left" on a full volume, and leaves no probe file after 20 rounds', async () => {
    await fill(volume.path);
    for (let round = 0; round < 20; round++) {
      expect(await check.run(new AbortController().signal)).toEqual({
        status: 'fail',
        output: `content path ${volume.path} has no space left`,
      });
    }
    expect(await probeFiles()).toEqual([]);
    await rm(join(volume.path, FILLER));
    expect((await check.run(new AbortController().signal)).status).toBe('pass');
  });

  it('fails on a read-only volume and leaves nothing behind once writable again', async () => {
    await volume.setReadOnly(true);
    for (let round = 0; round < 5; round++) {
      expect(await check.run(new AbortController().signal)).toEqual({
        status: 'fail',
        output: `content path ${volume.path} is on a read-only file system`,
      });
    }
    await volume.setReadOnly(false);
    expect((await check.run(new AbortController().signal)).status).toBe('pass');
    expect(await probeFiles()).toEqual([]);
  });

  it('cleans up when the round gives up on it, whether before or while it writes', async () => {
    const aborted = new AbortController();
    aborted.abort(new Error('round timeout'));
    expect(await check.run(aborted.signal)).toEqual({
      status: 'fail',
      output: `content path ${volume.path} did not answer in time`,
    });
    // Aborted while the file is being created and written: the probe still goes away once the
    // file system call returns.
    for (let round = 0; round < 20; round++) {
      const controller = new AbortController();
      const running = check.run(controller.signal);
      queueMicrotask(() => controller.abort(new Error('round timeout')));
      expect(['pass', 'fail']).toContain((await running).status);
    }
    expect(await probeFiles()).toEqual([]);
  });
});
