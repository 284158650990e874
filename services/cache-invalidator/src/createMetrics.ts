import { HealthMetrics, type Registry } from '@ghost-ha/core';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface QueueView {
  depth: { events: number; batches: number };
  oldestPendingAt(): number | undefined;
  permanentFailures(): number;
  /** Lone site.changed events waiting for the next allowed `/*`. */
  waitingSiteChanges: number;
  pathsToday: number;
  pathBudgetExceeded: boolean;
  quarantinedPaths(): number;
}

export type InvalidatorMetrics = ReturnType<typeof createMetrics>;

/** The service's metrics on its own registry; gauges read the queue when scraped. */
export function createMetrics(registry: Registry, view: () => QueueView | undefined, now: () => number) {
  const registers = [registry];
  return {
    /** The readiness checks' verdict and results (`cache_invalidator_health_*`). */
    health: new HealthMetrics(registry, 'cache_invalidator'),
    webhooks: new Counter({
      name: 'cache_invalidator_webhooks_total',
      help: 'Webhook and manual requests by event and result (accepted, or the rejection reason).',
      labelNames: ['event', 'result'] as const,
      registers,
    }),
    webhookSecretReloads: new Counter({
      name: 'cache_invalidator_webhook_secret_reloads_total',
      help: 'Reads of the webhook secret from Secrets Manager by result: changed (a rotation), unchanged, error (the last good secrets stay).',
      labelNames: ['result'] as const,
      registers,
    }),
    previousSecretDeliveries: new Counter({
      name: 'cache_invalidator_webhook_previous_secret_total',
      help: 'Deliveries accepted because they were signed with the previous webhook secret (within the rotation overlap): Ghost still signs with it.',
      registers,
    }),
    pathsPlanned: new Counter({
      name: 'cache_invalidator_paths_planned_total',
      help: 'Paths planned from accepted events, before coalescing.',
      registers,
    }),
    invalidations: new Counter({
      name: 'cache_invalidator_invalidations_total',
      help: 'CreateInvalidation outcomes by distribution: sent, or the error kind (throttled, busy, permanent, refused, transient).',
      labelNames: ['distribution', 'result'] as const,
      registers,
    }),
    invalidatedPaths: new Counter({
      name: 'cache_invalidator_invalidated_paths_total',
      help: 'Paths in accepted invalidations (what CloudFront bills; a wildcard counts as one).',
      labelNames: ['distribution'] as const,
      registers,
    }),
    journalSkippedRecords: new Counter({
      name: 'cache_invalidator_journal_skipped_records_total',
      help: 'Journal lines skipped when reading it at start because they were not whole records (torn by a crash or a failed write, or a checksum mismatch).',
      registers,
    }),
    latency: new Histogram({
      name: 'cache_invalidator_webhook_to_invalidation_seconds',
      help: 'Time from receiving an event to CloudFront accepting the invalidation that covers it.',
      labelNames: ['distribution'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'cache_invalidator_queue_depth',
      help: 'Pending work: events not yet in a batch, and batches not yet accepted by every distribution.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const depth = view()?.depth ?? { events: 0, batches: 0 };
        this.set({ kind: 'events' }, depth.events);
        this.set({ kind: 'batches' }, depth.batches);
      },
    }),
    oldestPendingAge: new Gauge({
      name: 'cache_invalidator_oldest_pending_age_seconds',
      help: 'Age of the oldest event not yet covered by an accepted invalidation (0 when none).',
      registers,
      collect() {
        const oldest = view()?.oldestPendingAt();
        this.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
      },
    }),
    waitingSiteChanges: new Gauge({
      name: 'cache_invalidator_site_changes_waiting',
      help: 'Lone site.changed events waiting, merged, for the next allowed /* (SITE_CHANGED_MIN_INTERVAL_MS).',
      registers,
      collect() {
        this.set(view()?.waitingSiteChanges ?? 0);
      },
    }),
    pathsToday: new Gauge({
      name: 'cache_invalidator_invalidated_paths_today',
      help: 'Paths in invalidations CloudFront accepted this UTC day, summed over distributions (a wildcard is one).',
      registers,
      collect() {
        this.set(view()?.pathsToday ?? 0);
      },
    }),
    pathBudgetExceeded: new Gauge({
      name: 'cache_invalidator_path_budget_exceeded',
      help: '1 once the day passed DAILY_INVALIDATION_PATH_BUDGET paths, else 0.',
      registers,
      collect() {
        this.set(view()?.pathBudgetExceeded ? 1 : 0);
      },
    }),
    permanentFailures: new Gauge({
      name: 'cache_invalidator_distributions_failing',
      help: 'Distributions whose last CreateInvalidation failed with a permanent error (no such distribution, access denied).',
      registers,
      collect() {
        this.set(view()?.permanentFailures() ?? 0);
      },
    }),
    quarantinedPaths: new Gauge({
      name: 'cache_invalidator_quarantined_paths',
      help: 'Paths CloudFront refused for good (InvalidArgument), set aside in the journal until released with POST /invalidations {"release": ...}; /health names them.',
      registers,
      collect() {
        this.set(view()?.quarantinedPaths() ?? 0);
      },
    }),
  };
}
