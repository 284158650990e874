import { type FileHandle, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { JournalWriteError } from './errors.js';

interface PendingLine {
  line: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

const FILE_NAME = 'journal.log';

/**
 * An append-only file of JSON lines, each append durable (fdatasync) before its promise resolves.
 * Appends that arrive while a write is in flight share the next write and sync (group commit), so
 * many concurrent webhooks cost one sync. `rewrite` replaces the file atomically (temp file, fsync,
 * rename, fsync of the directory) with the records still live, to keep it short.
 */
export class Journal<R> {
  readonly dir: string;
  readonly #path: string;
  #file: FileHandle;
  #queued: PendingLine[] = [];
  #writeScheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #bytes: number;
  #lastError: Error | undefined;
  #closed = false;

  private constructor(dir: string, file: FileHandle, bytes: number) {
    this.dir = dir;
    this.#path = join(dir, FILE_NAME);
    this.#file = file;
    this.#bytes = bytes;
  }

  /** Opens (creating the directory if needed) and returns the records found; a torn last line is skipped. */
  static async open<R>(dir: string): Promise<{ journal: Journal<R>; records: R[] }> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, FILE_NAME);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const records: R[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        records.push(JSON.parse(line) as R);
      } catch {
        // A crash mid-append leaves a partial last line; its request was never answered 2xx.
      }
    }
    const file = await open(path, 'a');
    return { journal: new Journal<R>(dir, file, Buffer.byteLength(text)), records };
  }

  /** Size of the file, for deciding when to rewrite it. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The last write failure, cleared by the next successful write. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  append(record: R): Promise<void> {
    return this.appendMany([record]);
  }

  appendMany(records: readonly R[]): Promise<void> {
    if (this.#closed) return Promise.reject(new JournalWriteError('the journal is closed'));
    const line = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    return new Promise((resolve, reject) => {
      this.#queued.push({ line, resolve, reject });
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
    const done = this.#chain.then(async () => {
      const records = live();
      const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
      const temporary = `${this.#path}.tmp`;
      try {
        const file = await open(temporary, 'w');
        try {
          await file.writeFile(text);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temporary, this.#path);
        await syncDirectory(this.dir);
        await this.#file.close();
        this.#file = await open(this.#path, 'a');
        this.#bytes = Buffer.byteLength(text);
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = new JournalWriteError(`rewriting ${this.#path} failed`, { cause: error });
        throw this.#lastError;
      }
    });
    this.#chain = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    await this.#file.close();
  }

  async #writeQueued(): Promise<void> {
    this.#writeScheduled = false;
    const batch = this.#queued;
    this.#queued = [];
    const text = batch.map((item) => item.line).join('');
    try {
      await this.#file.write(text);
      await this.#file.datasync();
      this.#bytes += Buffer.byteLength(text);
      this.#lastError = undefined;
      for (const item of batch) item.resolve();
    } catch (error) {
      this.#lastError = new JournalWriteError(`writing to ${this.#path} failed`, { cause: error });
      for (const item of batch) item.reject(this.#lastError);
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
