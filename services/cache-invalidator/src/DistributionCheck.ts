import type { Check, Observation } from '@ghost-ha/core';
import type { PermanentFailure } from './DistributionSender.js';

/** What the check needs of a distribution's sender. */
export interface DistributionState {
  readonly distributionId: string;
  readonly permanentFailure: PermanentFailure | undefined;
  readonly pending: number;
}

/**
 * `distribution:<id>`: `fail` while CloudFront answers this distribution's invalidations with an error
 * that retrying cannot fix (`NoSuchDistribution`, `AccessDenied`); `observedValue` is its unsent batches.
 */
export class DistributionCheck implements Check {
  readonly key: string;
  readonly componentType = 'component';
  readonly #sender: DistributionState;

  constructor(sender: DistributionState) {
    this.#sender = sender;
    this.key = `distribution:${sender.distributionId}`;
  }

  async run(): Promise<Observation> {
    const failure = this.#sender.permanentFailure;
    const observed = { observedValue: this.#sender.pending, observedUnit: 'batches' };
    if (!failure) return { status: 'pass', ...observed };
    return {
      status: 'fail',
      ...observed,
      output: `${failure.name}: ${failure.message} (since ${new Date(failure.since).toISOString()})`,
    };
  }
}
