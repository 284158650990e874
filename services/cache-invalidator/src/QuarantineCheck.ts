import type { Check, Observation } from '@ghost-ha/core';
import type { QuarantinedPaths } from './JournalRecord.js';

/** What the check needs of the queue: the quarantined paths. */
export interface Quarantine {
  readonly quarantined: readonly QuarantinedPaths[];
}

/** Entries named in the output; the rest are counted. */
const NAMED = 5;

/**
 * `invalidations:quarantined`: `warn` while paths CloudFront refused for good are set aside. Not
 * `fail`: every other change is still invalidated, and restarting the task mends nothing. The
 * output names the entries (distribution, paths, refusal) and how to release them.
 */
export class QuarantineCheck implements Check {
  readonly key = 'invalidations:quarantined';
  readonly componentType = 'component';
  readonly #queue: Quarantine;

  constructor(queue: Quarantine) {
    this.#queue = queue;
  }

  async run(): Promise<Observation> {
    const entries = this.#queue.quarantined;
    const paths = entries.reduce((sum, entry) => sum + entry.paths.length, 0);
    const observed = { observedValue: paths, observedUnit: 'paths' };
    if (entries.length === 0) return { status: 'pass', ...observed };
    const named = entries.slice(0, NAMED).map((entry) => {
      const shown = entry.paths.slice(0, NAMED).join(' ');
      const more = entry.paths.length > NAMED ? ` and ${entry.paths.length - NAMED} more` : '';
      return `${entry.id} on ${entry.distributionId}: ${shown}${more} (${entry.error.name}: ${entry.error.message.slice(0, 200)}; since ${new Date(entry.at).toISOString()})`;
    });
    const rest = entries.length > NAMED ? `; and ${entries.length - NAMED} more entries` : '';
    return {
      status: 'warn',
      ...observed,
      output: `${paths} path(s) refused by CloudFront for good and quarantined: ${named.join('; ')}${rest}. Once the cause is fixed, release with POST /invalidations {"release":["<id>"]} or {"release":"all"}`,
    };
  }
}
