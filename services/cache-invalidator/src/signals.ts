/**
 * What the cache-invalidator publishes to CloudWatch, as Embedded Metric Format lines on stdout: the
 * metrics of its `/metrics` registry whose names start with a prefix below, in the namespace
 * `<ProjectName>/CacheInvalidator` (the task definition sets `METRICS_NAMESPACE`). Alarms and dashboard
 * widgets in `observability.yaml` may refer only to these; a test holds them to it.
 */
export const INVALIDATOR_SIGNALS = {
  namespaceSuffix: 'CacheInvalidator',
  /** The registry's `service` label: the namespace already says it. */
  dropLabels: ['service'],
  prefixes: ['cache_invalidator_'],
  /** Results summed over every event or distribution, so an alarm needs no distribution id. */
  rollups: {
    cache_invalidator_webhooks_total: [['result']],
    cache_invalidator_invalidations_total: [['result']],
    cache_invalidator_invalidated_paths_total: [[]],
    cache_invalidator_webhook_to_invalidation_seconds: [[]],
  },
} as const;
