/**
 * What the sidecar publishes to CloudWatch, as Embedded Metric Format lines on stdout: the metrics of
 * its `/metrics` registry whose names start with a prefix below, in the namespace
 * `<ProjectName>/HealthSidecar` (the task definition sets `METRICS_NAMESPACE`). Alarms and dashboard
 * widgets in `observability.yaml` may refer only to these; a test holds them to it.
 */
export const SIDECAR_SIGNALS = {
  namespaceSuffix: 'HealthSidecar',
  /** The registry's `service` label: the namespace already says it. */
  dropLabels: ['service'],
  prefixes: ['ghost_ha_'],
  /** Every gate request's latency also without its status code, for one latency graph. */
  rollups: {
    ghost_ha_gate_request_duration_seconds: [[]],
  },
} as const;
