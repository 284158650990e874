import { statfs } from 'node:fs/promises';
import type { Check, Observation } from '@ghost-ha/core';
import { describeFsError } from './ContentVolumeCheck.js';

const MIB = 1024 * 1024;

/** Free space on the content volume: `warn` below the threshold, so someone acts before uploads fail. */
export class DiskSpaceCheck implements Check {
  readonly key = 'contentVolume:freeSpace';
  readonly componentType = 'system';
  readonly #contentPath: string;
  readonly #warnBelowBytes: number;

  constructor(options: { contentPath: string; warnBelowBytes: number }) {
    this.#contentPath = options.contentPath;
    this.#warnBelowBytes = options.warnBelowBytes;
  }

  async run(): Promise<Observation> {
    try {
      const stats = await statfs(this.#contentPath);
      const freeBytes = Number(stats.bavail) * Number(stats.bsize);
      const freeMiB = Math.floor(freeBytes / MIB);
      if (freeBytes < this.#warnBelowBytes) {
        return {
          status: 'warn',
          observedValue: freeMiB,
          observedUnit: 'MiB',
          output: `less than ${Math.round(this.#warnBelowBytes / MIB)} MiB free on the content volume`,
        };
      }
      return { status: 'pass', observedValue: freeMiB, observedUnit: 'MiB' };
    } catch (error) {
      return { status: 'fail', output: describeFsError(this.#contentPath, error) };
    }
  }
}
