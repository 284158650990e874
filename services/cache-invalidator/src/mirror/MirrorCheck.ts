import type { Check, Observation } from '@ghost-ha/core';
import type { ParkedPath } from './MirrorRefresher.js';

/** What the check needs of the refresher. */
export interface ParkedPathsSource {
  parkedPaths(): ParkedPath[];
}

/**
 * `mirror:parkedPaths`: `warn` while paths are parked (they kept failing while the site answered, so
 * the mirror serves an older copy or none for them). Never `fail`: the mirror must not take the
 * service, and with it invalidations, out of rotation.
 */
export class MirrorCheck implements Check {
  readonly key = 'mirror:parkedPaths';
  readonly componentType = 'component';
  readonly #source: ParkedPathsSource;

  constructor(source: ParkedPathsSource) {
    this.#source = source;
  }

  async run(): Promise<Observation> {
    const parked = this.#source.parkedPaths();
    if (parked.length === 0) return { status: 'pass', observedValue: 0 };
    const named = parked
      .slice(0, 3)
      .map((p) => `${p.path} (${p.reason})`)
      .join(', ');
    return {
      status: 'warn',
      observedValue: parked.length,
      output: `${parked.length} mirror path(s) parked after repeated failures: ${named}${parked.length > 3 ? ', …' : ''}`,
    };
  }
}
