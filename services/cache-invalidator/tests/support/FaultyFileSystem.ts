import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JournalFile, JournalFileSystem } from '../../src/JournalFileSystem.js';
import { nodeFileSystem } from '../../src/JournalFileSystem.js';

/**
 * What the storage does now; change it at any time, clear it to let the storage recover.
 * Each fault applies to every operation of its kind while it is set, as a failing disk would.
 */
export interface StorageFaults {
  /** Every write fails with this code (EIO, ENOSPC); the first one persists `tornBytes` (a short write) before the error. */
  writeError?: string;
  tornBytes?: number;
  /** Every fdatasync/fsync of a file fails with this code, after the data was written. */
  syncError?: string;
  /** Each write call takes at most this many bytes (a short write, as NFS or a signal can give). */
  maxBytesPerWrite?: number;
  /** Emulated free space: writes beyond it are short, then ENOSPC (where a real small volume cannot be mounted). */
  spaceLeft?: number;
  /** Opening for writing, truncate, rename, mkdir and the writable check fail with EROFS. */
  readOnly?: boolean;
  /** After this many more bytes reach the disk the process "dies": the rest of that write and every later call are lost. */
  crashAfterBytes?: number;
  /** Only bytes written to files of this name count toward `crashAfterBytes` (default: every file). */
  crashCountsOnly?: string;
}

/**
 * A fault-injecting layer over the real file system, between the journal and the disk. Bytes that
 * are written really reach the file underneath, so a torn write leaves a real torn record.
 */
export class FaultyFileSystem implements JournalFileSystem {
  faults: StorageFaults = {};
  /** Writes that persisted fewer bytes than asked, with the bytes asked and persisted. */
  readonly tornWrites: { path: string; asked: number; persisted: number }[] = [];
  #crashed = false;
  readonly #inner: JournalFileSystem;

  constructor(inner: JournalFileSystem = nodeFileSystem) {
    this.#inner = inner;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  async mkdir(dir: string): Promise<void> {
    this.#alive('mkdir');
    // As on a real read-only mount, an existing directory is not an error.
    if (
      this.faults.readOnly &&
      !(await stat(dir).then(
        (stats) => stats.isDirectory(),
        () => false,
      ))
    ) {
      throw errno('EROFS', 'mkdir');
    }
    await this.#inner.mkdir(dir);
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    this.#alive('read');
    return this.#inner.readFile(path);
  }

  async openForWriting(path: string, options?: { truncate?: boolean }): Promise<JournalFile> {
    this.#alive('open');
    if (this.faults.readOnly) throw errno('EROFS', 'open');
    const file = await this.#inner.openForWriting(path, options);
    return {
      write: (buffer, offset, length, position) => this.#write(path, file, buffer, offset, length, position),
      datasync: () => this.#sync('fdatasync', () => file.datasync()),
      sync: () => this.#sync('fsync', () => file.sync()),
      truncate: async (length) => {
        this.#alive('ftruncate');
        if (this.faults.readOnly) throw errno('EROFS', 'ftruncate');
        await file.truncate(length);
      },
      close: () => file.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.#alive('rename');
    if (this.faults.readOnly) throw errno('EROFS', 'rename');
    await this.#inner.rename(from, to);
  }

  async remove(path: string): Promise<void> {
    this.#alive('unlink');
    if (this.faults.readOnly) throw errno('EROFS', 'unlink');
    await this.#inner.remove(path);
  }

  async syncDirectory(dir: string): Promise<void> {
    await this.#sync('fsync', () => this.#inner.syncDirectory(dir));
  }

  async checkWritable(dir: string): Promise<void> {
    this.#alive('access');
    if (this.faults.readOnly) throw errno('EROFS', 'access');
    await this.#inner.checkWritable(dir);
  }

  async #write(
    path: string,
    file: JournalFile,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<number> {
    this.#alive('write');
    const faults = this.faults;
    if (faults.readOnly) throw errno('EROFS', 'write');
    let allowed = length;
    let failure: Error | undefined;
    if (faults.writeError !== undefined) {
      allowed = Math.min(allowed, Math.max(0, faults.tornBytes ?? 0));
      failure = errno(faults.writeError, 'write');
    }
    if (faults.maxBytesPerWrite !== undefined) allowed = Math.min(allowed, faults.maxBytesPerWrite);
    if (faults.spaceLeft !== undefined) {
      if (faults.spaceLeft <= 0) failure = errno('ENOSPC', 'write');
      allowed = Math.min(allowed, Math.max(0, faults.spaceLeft));
    }
    let crash = false;
    const counts = faults.crashCountsOnly === undefined || basename(path) === faults.crashCountsOnly;
    if (counts && faults.crashAfterBytes !== undefined && faults.crashAfterBytes < allowed) {
      allowed = Math.max(0, faults.crashAfterBytes);
      crash = true;
    }
    // Taken before the write is awaited: writers in parallel (the journal and the signature log)
    // share the space, the torn bytes and the crash budget as they would on one disk.
    const budgets = (bytes: number) => {
      if (faults.spaceLeft !== undefined) faults.spaceLeft -= bytes;
      if (faults.writeError !== undefined && faults.tornBytes !== undefined) faults.tornBytes -= bytes;
      if (counts && faults.crashAfterBytes !== undefined) faults.crashAfterBytes -= bytes;
    };
    budgets(allowed);
    const persisted = allowed > 0 ? await file.write(buffer, offset, allowed, position) : 0;
    budgets(persisted - allowed);
    if (persisted < length) this.tornWrites.push({ path, asked: length, persisted });
    if (crash) {
      this.#crashed = true;
      throw errno('ECRASHED', 'write');
    }
    // A real short write reports what it wrote; the error comes with the next call.
    if (failure && persisted === 0) throw failure;
    return persisted;
  }

  async #sync(syscall: string, sync: () => Promise<void>): Promise<void> {
    this.#alive(syscall);
    if (this.faults.syncError !== undefined) throw errno(this.faults.syncError, syscall);
    await sync();
  }

  #alive(syscall: string): void {
    if (this.#crashed) throw errno('ECRASHED', syscall);
  }
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, syscall });
}
