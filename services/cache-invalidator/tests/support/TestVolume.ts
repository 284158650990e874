import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JournalFileSystem } from '../../src/JournalFileSystem.js';
import { nodeFileSystem } from '../../src/JournalFileSystem.js';
import { FaultyFileSystem } from './FaultyFileSystem.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A small volume for the journal: a real tmpfs of `sizeBytes` (mounted as root), filled and
 * remounted read-only for real. Where mounting is not permitted (or JOURNAL_TEST_VOLUME=emulated),
 * a plain temp dir behind the fault-injecting layer, which emulates the same faults.
 */
export class TestVolume {
  readonly dir: string;
  readonly mounted: boolean;
  readonly fileSystem: JournalFileSystem;
  readonly #faulty: FaultyFileSystem | undefined;
  #filler: string | undefined;

  private constructor(dir: string, mounted: boolean) {
    this.dir = dir;
    this.mounted = mounted;
    this.#faulty = mounted ? undefined : new FaultyFileSystem();
    this.fileSystem = this.#faulty ?? nodeFileSystem;
  }

  static async create(sizeBytes: number): Promise<TestVolume> {
    const dir = await mkdtemp(join(tmpdir(), 'journal-volume-'));
    if (process.env.JOURNAL_TEST_VOLUME !== 'emulated') {
      try {
        await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
        return new TestVolume(dir, true);
      } catch {
        // Not root, or no mount in this container: emulate below.
      }
    }
    return new TestVolume(dir, false);
  }

  /** Where the service keeps its journal on this volume. */
  get journalDir(): string {
    return join(this.dir, 'journal');
  }

  /** Fills the volume with a file, leaving about `leaveBytes` free. */
  async fill(leaveBytes = 0): Promise<void> {
    if (this.#faulty) {
      this.#faulty.faults.spaceLeft = leaveBytes;
      return;
    }
    const stats = await statfs(this.dir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    this.#filler = join(this.dir, 'filler');
    await writeFile(this.#filler, Buffer.alloc(Math.max(0, free - leaveBytes))).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    });
  }

  /** Frees what `fill` took. */
  async free(): Promise<void> {
    if (this.#faulty) {
      delete this.#faulty.faults.spaceLeft;
      return;
    }
    if (this.#filler) await rm(this.#filler, { force: true });
    this.#filler = undefined;
  }

  async readOnly(): Promise<void> {
    if (this.#faulty) this.#faulty.faults.readOnly = true;
    else await remount(this.dir, 'ro');
  }

  async writable(): Promise<void> {
    if (this.#faulty) this.#faulty.faults.readOnly = false;
    else await remount(this.dir, 'rw');
  }

  async destroy(): Promise<void> {
    if (this.mounted) {
      for (let attempt = 0; ; attempt++) {
        try {
          await run('umount', [this.dir]);
          break;
        } catch (error) {
          if (attempt >= 50) throw error;
          await sleep(100);
        }
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A remount fails with EBUSY while a file on the volume is open for writing (a journal write in flight): retry. */
async function remount(dir: string, mode: 'ro' | 'rw'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run('mount', ['-o', `remount,${mode}`, dir]);
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(20);
    }
  }
}
