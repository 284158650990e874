import { randomBytes } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Check, Observation } from './Check.js';

/**
 * Writes, reads back and deletes a small probe file under Ghost's content path (the EFS mount in
 * AWS): a missing, read-only or hung volume fails, as it would for Ghost's uploads.
 */
export class ContentVolumeCheck implements Check {
  readonly key = 'contentVolume:responseTime';
  readonly componentType = 'component';
  readonly #contentPath: string;
  readonly #now: () => number;

  constructor(options: { contentPath: string; now: () => number }) {
    this.#contentPath = options.contentPath;
    this.#now = options.now;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    const started = this.#now();
    const token = randomBytes(16).toString('hex');
    const probe = join(this.#contentPath, `.ghost-ha-probe-${process.pid}-${token}`);
    try {
      await writeFile(probe, token, { flag: 'wx', signal });
      let readBack: string;
      try {
        readBack = await readFile(probe, { encoding: 'utf8', signal });
      } finally {
        await unlink(probe).catch(() => undefined);
      }
      if (readBack !== token) {
        return { status: 'fail', output: `the probe file under ${this.#contentPath} read back different content` };
      }
      return { status: 'pass', observedValue: this.#now() - started, observedUnit: 'ms' };
    } catch (error) {
      return { status: 'fail', output: describeFsError(this.#contentPath, error) };
    }
  }
}

/** A short reason with the path and errno code; Node's message would repeat the probe's random name. */
export function describeFsError(path: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return `content path ${path} does not exist`;
    case 'ENOTDIR':
      return `content path ${path} is not a directory`;
    case 'EROFS':
      return `content path ${path} is on a read-only file system`;
    case 'EACCES':
    case 'EPERM':
      return `content path ${path} is not writable (${code})`;
    case 'ENOSPC':
      return `content path ${path} has no space left`;
    case 'ABORT_ERR':
      return `content path ${path} did not answer in time`;
    default:
      return `content path ${path}: ${typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'}`;
  }
}
