import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Check, Observation } from '@ghost-ha/core';

/**
 * Writes, reads back and deletes a small probe file under Ghost's content path (the EFS mount in
 * AWS): a missing, read-only, full or hung volume fails, as it would for Ghost's uploads.
 *
 * The probe never outlives its round: whatever fails after the file exists (a full volume refusing
 * the write, the round's timeout), it is deleted; one that cannot be deleted yet (the volume turned
 * read-only meanwhile) is deleted by a later round.
 */
export class ContentVolumeCheck implements Check {
  readonly key = 'contentVolume:responseTime';
  readonly componentType = 'component';
  readonly #contentPath: string;
  readonly #now: () => number;
  /** Probe files whose deletion failed, tried again each round. */
  readonly #leftovers = new Set<string>();

  constructor(options: { contentPath: string; now: () => number }) {
    this.#contentPath = options.contentPath;
    this.#now = options.now;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    const started = this.#now();
    for (const leftover of this.#leftovers) if (await removed(leftover)) this.#leftovers.delete(leftover);
    const token = randomBytes(16).toString('hex');
    const probe = join(this.#contentPath, `.ghost-ha-probe-${process.pid}-${token}`);
    let handle: FileHandle | undefined;
    let created = false;
    let observation: Observation;
    try {
      // Opened without the abort signal: once the call has started, only its result says whether
      // there is a file to delete.
      handle = await open(probe, 'wx');
      created = true;
      signal.throwIfAborted();
      await handle.writeFile(token, { signal });
      await handle.close();
      handle = undefined;
      const readBack = await readFile(probe, { encoding: 'utf8', signal });
      observation =
        readBack === token
          ? { status: 'pass', observedValue: this.#now() - started, observedUnit: 'ms' }
          : { status: 'fail', output: `the probe file under ${this.#contentPath} read back different content` };
    } catch (error) {
      const reason = signal.aborted ? { code: 'ABORT_ERR' } : error;
      observation = { status: 'fail', output: describeFsError(this.#contentPath, reason) };
    }
    await handle?.close().catch(() => undefined);
    if (created && !(await removed(probe))) {
      this.#leftovers.add(probe);
      if (observation.status === 'pass')
        observation = { status: 'fail', output: `the probe file under ${this.#contentPath} could not be deleted` };
    }
    return observation;
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

/** Deletes `path`; true once it is gone (also when it was gone already). */
async function removed(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ENOENT';
  }
}
