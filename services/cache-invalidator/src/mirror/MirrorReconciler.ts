import { type Logger, summarizeError } from '@ghost-ha/core';
import type { RefreshJob } from './MirrorJournalRecord.js';

/** A reconcile: a full crawl (merged into a full crawl already queued), named for the logs. */
export function reconcileJob(at: number): RefreshJob {
  return { id: `reconcile-${at}`, changedAt: at, paths: [], everything: true, source: 'build' };
}

export interface MirrorReconcilerOptions {
  /** The refresher's enqueue: journals the job, merging it into a queued full crawl. */
  enqueue: (job: RefreshJob) => Promise<void>;
  /** Time between two reconciles (MIRROR_RECONCILE_INTERVAL_MS); 0: none. */
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Reconciles the mirror with Ghost every `intervalMs` (nightly by default): a full crawl catches
 * what no invalidation carried, e.g. jobs lost with a failover (the mirror's journal is on EFS,
 * replicated with lag). The crawl after a failover itself runs on start (crawlOnStart).
 */
export class MirrorReconciler {
  readonly #options: MirrorReconcilerOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MirrorReconcilerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'MirrorReconciler' });
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#options.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.reconcile(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Enqueues one reconcile; a journal failure is logged, and the next interval tries again. */
  async reconcile(): Promise<void> {
    const job = reconcileJob(this.#now());
    try {
      await this.#options.enqueue(job);
      this.#log.info({ jobId: job.id }, 'mirror: reconcile (full crawl) queued');
    } catch (error) {
      this.#log.error({ error: summarizeError(error), jobId: job.id }, 'mirror: could not queue the reconcile');
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
