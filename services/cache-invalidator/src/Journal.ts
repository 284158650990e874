import { join } from 'node:path';
import { JournalWriteError } from './errors.js';
import { type JournalFile, type JournalFileSystem, nodeFileSystem } from './JournalFileSystem.js';
import { encodeJournalFrame, readJournalFrames, type SkippedRecord } from './journalFrames.js';

export type { SkippedRecord } from './journalFrames.js';

interface PendingFrames {
  frames: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface JournalOptions {
  /** The file operations; tests pass a fault-injecting layer. Default: node:fs. */
  fileSystem?: JournalFileSystem;
  /** Default `journal.log`. */
  fileName?: string;
}

export interface OpenedJournal<R> {
  journal: Journal<R>;
  /** Every whole record, in order. */
  records: R[];
  /** What was not a whole record (a torn last line after a crash, a line failing its checksum). */
  skipped: SkippedRecord[];
}

const DEFAULT_FILE_NAME = 'journal.log';
/** The test write that decides whether a journal that failed takes writes again. */
const PROBE_BYTES = 16 * 1024;

/**
 * An append-only file of checksummed records (see journalFrames), each append durable before its
 * promise resolves: every byte written (short writes are continued, never taken for whole ones),
 * then fdatasync. Appends that arrive while a write is in flight share the next write and sync
 * (group commit), so many concurrent webhooks cost one sync.
 *
 * Each write goes at the end of the last whole record, not at the end of the file: after a failed
 * write (short, EIO, full volume, failed sync) the file is truncated back to that offset before the
 * next one, so a torn record never has a record glued to it and the file holds only what was
 * acknowledged plus, at worst, the one failed write at its end. No file is held open between
 * writes, so the volume can be remounted and a replaced volume is picked up by the next write.
 * `rewrite` replaces the file atomically (temp file, fsync, rename, fsync of the directory).
 */
export class Journal<R> {
  readonly dir: string;
  readonly #path: string;
  readonly #fs: JournalFileSystem;
  #queued: PendingFrames[] = [];
  #writeScheduled = false;
  #chain: Promise<void> = Promise.resolve();
  /** End of the last whole, durable record: where the next write goes. */
  #bytes: number;
  /** Bytes past `#bytes` may be on disk (a failed write, a torn tail): truncate before writing. */
  #dirty: boolean;
  /** The file's directory entry is known durable (synced once after open, create or rename). */
  #entryDurable = false;
  #lastError: Error | undefined;
  #probe: Promise<Error | undefined> | undefined;
  #closed = false;

  private constructor(dir: string, path: string, fileSystem: JournalFileSystem, bytes: number, dirty: boolean) {
    this.dir = dir;
    this.#path = path;
    this.#fs = fileSystem;
    this.#bytes = bytes;
    this.#dirty = dirty;
  }

  /**
   * Opens (creating the directory if needed) and returns every whole record found, with what was
   * skipped. Opening writes nothing, so a journal on a read-only volume opens; its first write fails.
   */
  static async open<R>(dir: string, options: JournalOptions = {}): Promise<OpenedJournal<R>> {
    const fileSystem = options.fileSystem ?? nodeFileSystem;
    const path = join(dir, options.fileName ?? DEFAULT_FILE_NAME);
    await fileSystem.mkdir(dir);
    const data = (await fileSystem.readFile(path)) ?? Buffer.alloc(0);
    const { records, skipped, end } = readJournalFrames<R>(data);
    const journal = new Journal<R>(dir, path, fileSystem, end, end < data.length);
    return { journal, records, skipped };
  }

  /** Size of the whole records in the file, for deciding when to rewrite it. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The last write failure, cleared by the next successful write or probe. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * `undefined` when the journal takes writes. Without a failure: whether the directory is
   * writable (it may have been remounted read-only since the last write). After a failure: a test
   * write of 16 KiB beside the journal (fdatasync, then removed) must succeed, so the check clears
   * by itself once the storage is back, without waiting for the next webhook.
   */
  async health(): Promise<Error | undefined> {
    if (this.#lastError === undefined) {
      return this.#fs.checkWritable(this.dir).then(
        () => undefined,
        (error: unknown) =>
          new JournalWriteError(`${this.dir} does not take writes (${codeOf(error)})`, { cause: error }),
      );
    }
    if (!this.#probe) {
      const probe = this.#chain.then(() => this.#writeProbe());
      this.#chain = probe.then(() => undefined);
      this.#probe = probe.finally(() => {
        this.#probe = undefined;
      });
    }
    return this.#probe;
  }

  append(record: R): Promise<void> {
    return this.appendMany([record]);
  }

  appendMany(records: readonly R[]): Promise<void> {
    if (this.#closed) return Promise.reject(new JournalWriteError('the journal is closed'));
    const frames = records.map(encodeJournalFrame).join('');
    return new Promise((resolve, reject) => {
      this.#queued.push({ frames, resolve, reject });
      if (!this.#writeScheduled) {
        this.#writeScheduled = true;
        this.#chain = this.#chain.then(() => this.#writeQueued());
      }
    });
  }

  /**
   * Replaces the file with `live()`, called once every earlier append is on disk, so a record
   * appended before the call is either written before the snapshot or part of it.
   */
  rewrite(live: () => readonly R[]): Promise<void> {
    if (this.#closed) return Promise.reject(new JournalWriteError('the journal is closed'));
    const done = this.#chain.then(async () => {
      const data = Buffer.from(live().map(encodeJournalFrame).join(''));
      const temporary = `${this.#path}.tmp`;
      try {
        const file = await this.#fs.openForWriting(temporary, { truncate: true });
        await closeAfter(file, async () => {
          await writeFully(file, data, 0);
          await file.sync();
        });
        await this.#fs.rename(temporary, this.#path);
      } catch (error) {
        // A partial temp file on a full volume would keep it full.
        await this.#fs.remove(temporary).catch(() => undefined);
        throw this.#fail(`rewriting ${this.#path} failed`, error);
      }
      this.#bytes = data.length;
      this.#dirty = false;
      this.#entryDurable = false;
      await this.#syncEntry().catch((error: unknown) => {
        throw this.#fail(`rewriting ${this.#path} failed`, error);
      });
      this.#lastError = undefined;
    });
    this.#chain = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
  }

  async #writeQueued(): Promise<void> {
    this.#writeScheduled = false;
    const batch = this.#queued;
    this.#queued = [];
    const data = Buffer.from(batch.map((item) => item.frames).join(''));
    try {
      const file = await this.#fs.openForWriting(this.#path);
      await closeAfter(file, async () => {
        if (this.#dirty) await file.truncate(this.#bytes);
        await writeFully(file, data, this.#bytes);
        await file.datasync();
      });
      await this.#syncEntry();
    } catch (error) {
      // What reached the disk of this write is unknown: the next write truncates it away first.
      this.#dirty = true;
      const failure = this.#fail(`writing to ${this.#path} failed`, error);
      for (const item of batch) item.reject(failure);
      return;
    }
    this.#bytes += data.length;
    this.#dirty = false;
    this.#lastError = undefined;
    for (const item of batch) item.resolve();
  }

  async #writeProbe(): Promise<Error | undefined> {
    if (this.#lastError === undefined) return undefined;
    const path = `${this.#path}.probe`;
    try {
      const file = await this.#fs.openForWriting(path, { truncate: true });
      await closeAfter(file, async () => {
        await writeFully(file, Buffer.alloc(PROBE_BYTES, 0x0a), 0);
        await file.datasync();
      });
      await this.#fs.remove(path);
    } catch (error) {
      await this.#fs.remove(path).catch(() => undefined);
      return this.#fail(`${this.dir} still does not take writes`, error);
    }
    this.#lastError = undefined;
    return undefined;
  }

  async #syncEntry(): Promise<void> {
    if (this.#entryDurable) return;
    await this.#fs.syncDirectory(this.dir);
    this.#entryDurable = true;
  }

  #fail(message: string, cause: unknown): JournalWriteError {
    this.#lastError = new JournalWriteError(`${message} (${codeOf(cause)})`, { cause });
    return this.#lastError;
  }
}

/** Writes all of `data` at `position`, continuing after short writes; a write that makes no progress fails. */
async function writeFully(file: JournalFile, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const bytes = await file.write(data, written, data.length - written, position + written);
    if (bytes <= 0) {
      throw Object.assign(new Error(`short write: ${written} of ${data.length} bytes`), { code: 'ESHORTWRITE' });
    }
    written += bytes;
  }
}

/** Runs `work`, then closes the file; a failed close after a successful sync loses nothing. */
async function closeAfter(file: JournalFile, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } finally {
    await file.close().catch(() => undefined);
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
