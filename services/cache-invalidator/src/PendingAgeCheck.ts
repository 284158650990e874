import type { Check, Observation } from '@ghost-ha/core';

/** What the check needs of the queue: how much waits, and since when. */
export interface PendingWork {
  readonly depth: { events: number; batches: number };
  oldestPendingAt(): number | undefined;
}

/**
 * `invalidations:oldestPendingAge`: `fail` once the oldest event CloudFront has not yet accepted is
 * older than the limit (readers are being served stale pages for that long).
 */
export class PendingAgeCheck implements Check {
  readonly key = 'invalidations:oldestPendingAge';
  readonly componentType = 'component';
  readonly #queue: PendingWork;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { queue: PendingWork; maxAgeMs: number; now: () => number }) {
    this.#queue = options.queue;
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now;
  }

  async run(): Promise<Observation> {
    const oldest = this.#queue.oldestPendingAt();
    const ageSeconds = oldest === undefined ? 0 : Math.round((this.#now() - oldest) / 1000);
    const observed = { observedValue: ageSeconds, observedUnit: 's' };
    if (ageSeconds * 1000 <= this.#maxAgeMs) return { status: 'pass', ...observed };
    const { events, batches } = this.#queue.depth;
    return {
      status: 'fail',
      ...observed,
      output: `the oldest pending event is ${ageSeconds} s old (limit ${Math.round(this.#maxAgeMs / 1000)} s; ${events} open events, ${batches} unsent batches)`,
    };
  }
}
