import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';

/** A file open for writing at explicit offsets (never O_APPEND: the journal decides where a record starts). */
export interface JournalFile {
  /** One write call at `position`; resolves with the bytes written, which may be fewer than `length`. */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file operations the journal uses, passed in so tests can put a fault-injecting layer
 * (short writes, EIO, a read-only volume) between the journal and the disk.
 */
export interface JournalFileSystem {
  mkdir(dir: string): Promise<void>;
  /** The whole file, or `undefined` when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Opens for writing, creating the file if missing; `truncate` empties it first. */
  openForWriting(path: string, options?: { truncate?: boolean }): Promise<JournalFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing one is not an error. */
  remove(path: string): Promise<void>;
  /** fsync of a directory, so a created or renamed entry survives a crash. */
  syncDirectory(dir: string): Promise<void>;
  /** Rejects when the directory does not take writes (missing, no permission, read-only mount). */
  checkWritable(dir: string): Promise<void>;
}

/** The real file system (node:fs). */
export const nodeFileSystem: JournalFileSystem = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  async openForWriting(path, options) {
    const flags = constants.O_WRONLY | constants.O_CREAT | (options?.truncate ? constants.O_TRUNC : 0);
    const handle = await open(path, flags, 0o644);
    return {
      write: async (buffer, offset, length, position) =>
        (await handle.write(buffer, offset, length, position)).bytesWritten,
      datasync: () => handle.datasync(),
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async syncDirectory(dir) {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  checkWritable: (dir) => access(dir, constants.W_OK),
};
