import { summarizeError } from '@ghost-ha/core';
import type { DistributionSender } from './DistributionSender.js';
import type { InvalidationQueue } from './InvalidationQueue.js';
import type { Journal } from './Journal.js';
import type { Readiness, ReadinessSource } from './ReadinessSource.js';

export interface InvalidatorReadinessOptions {
  journal: Pick<Journal<unknown>, 'health'>;
  queue: Pick<InvalidationQueue, 'depth' | 'oldestPendingAt'>;
  senders: () => Iterable<Pick<DistributionSender, 'distributionId' | 'permanentFailure' | 'pending'>>;
  config: { journalDir: string; readyMaxPendingAgeMs: number };
  stopping: () => boolean;
  now: () => number;
}

/**
 * `/health/ready`: the journal takes writes, the oldest pending event is young enough, no
 * distribution refuses with a permanent error, and the service is not stopping. The mirror is not
 * a check: an S3 outage must not take invalidations down.
 */
export class InvalidatorReadiness implements ReadinessSource {
  readonly #options: InvalidatorReadinessOptions;

  constructor(options: InvalidatorReadinessOptions) {
    this.#options = options;
  }

  async readiness(): Promise<Readiness> {
    const { journal, queue, config } = this.#options;
    const checks: Readiness['checks'] = {};
    // Fails while the journal's writes fail, and when the directory stopped taking writes.
    const journalError = await journal.health();
    checks.journal = journalError
      ? { status: 'fail', detail: summarizeError(journalError) }
      : { status: 'pass', detail: { dir: config.journalDir } };
    const oldest = queue.oldestPendingAt();
    const ageSeconds = oldest === undefined ? 0 : Math.round((this.#options.now() - oldest) / 1000);
    checks.pending = {
      status: ageSeconds * 1000 > config.readyMaxPendingAgeMs ? 'fail' : 'pass',
      detail: { ...queue.depth, oldestAgeSeconds: ageSeconds },
    };
    for (const sender of this.#options.senders()) {
      const failure = sender.permanentFailure;
      checks[`distribution:${sender.distributionId}`] = failure
        ? { status: 'fail', detail: { ...failure, since: new Date(failure.since).toISOString() } }
        : { status: 'pass', detail: { pendingBatches: sender.pending } };
    }
    if (this.#options.stopping()) checks.shutdown = { status: 'fail', detail: 'stopping' };
    return { ready: Object.values(checks).every((check) => check.status === 'pass'), checks };
  }
}
