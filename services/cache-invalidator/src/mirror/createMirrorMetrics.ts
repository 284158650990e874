import type { Registry } from '@ghost-ha/core';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface MirrorView {
  depth: number;
  oldestPendingAt(): number | undefined;
  parkedPaths(): readonly unknown[];
}

export type MirrorMetrics = ReturnType<typeof createMirrorMetrics>;

/** The mirror's metrics, on the service's registry. */
export function createMirrorMetrics(registry: Registry, view: () => MirrorView | undefined, now: () => number) {
  const registers = [registry];
  return {
    paths: new Counter({
      name: 'cache_invalidator_mirror_paths_total',
      help: 'Paths brought in line with Ghost by result: written, removed, personal (refused and removed), present (asset already there), unchanged (304 to the stored validators), refused (not the site, too large, type not taken), parked, guarded (removal refused by the share guard).',
      labelNames: ['result'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'cache_invalidator_mirror_errors_total',
      help: 'Failed attempts, retried: fetch (Ghost through the gate) or store (S3).',
      labelNames: ['kind'] as const,
      registers,
    }),
    freshness: new Histogram({
      name: 'cache_invalidator_mirror_refresh_seconds',
      help: 'Time from the first event of a batch to the mirror holding every page it changed.',
      labelNames: ['source'] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers,
    }),
    merged: new Counter({
      name: 'cache_invalidator_mirror_crawls_merged_total',
      help: 'Full crawls merged into one already queued.',
      registers,
    }),
    parked: new Gauge({
      name: 'cache_invalidator_mirror_parked_paths',
      help: 'Paths set aside after failing MIRROR_MAX_ATTEMPTS times while the site answered; tried again every MIRROR_PARKED_RETRY_MS.',
      registers,
      collect() {
        this.set(view()?.parkedPaths().length ?? 0);
      },
    }),
    pending: new Gauge({
      name: 'cache_invalidator_mirror_pending_jobs',
      help: 'Mirror refreshes (batches, full builds) not yet finished.',
      registers,
      collect() {
        this.set(view()?.depth ?? 0);
      },
    }),
    oldestPendingAge: new Gauge({
      name: 'cache_invalidator_mirror_oldest_pending_age_seconds',
      help: 'Age of the oldest change the mirror does not reflect yet (0 when none).',
      registers,
      collect() {
        const oldest = view()?.oldestPendingAt();
        this.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
      },
    }),
  };
}
