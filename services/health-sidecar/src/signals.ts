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

/**
 * The log messages operators search and alert on (the README's tables quote them; a test holds the
 * README to these). Rewording one here is a visible change of the contract, not a silent one.
 */
export const SIDECAR_LOG = {
  lockTaken: 'lock and lease taken: this task’s Ghost may start',
  waitingForHolder: 'another task holds the lease; waiting for it to stop or expire',
  lockLost: 'lock lost; taking it back (Ghost keeps running while the lease is ours)',
  lockRegained: 'lock taken back; the lease is still ours, so Ghost keeps running',
  leaseRenewalFailed: 'lease renewal failed; the lock is still held, Ghost keeps running for now',
  leaseRenewed: 'lease renewed again',
  staleHolderKilled: 'the lease expired but its lock is still held: killing the stale lock connection',
  fenced: 'fenced: this task’s Ghost must stop',
  lockReleased: 'lock released',
  gateUpstreamFailed: 'Ghost did not answer the gate',
  gateResponseTimeout: 'Ghost did not start answering in time',
  gateFailedWaitingReads: 'verdict turned fail: answering waiting reads 503',
  gateDrainCut: 'drain timed out; cutting the requests still in flight',
  shuttingDown: 'shutting down: readiness fails from now on',
  shutdownComplete: 'shutdown complete',
  shutdownOverran: 'shutdown overran the stop timeout; exiting now',
  writesSucceedAgain: 'writes succeed again',
  databaseLoginReread: 'the database refused the login; new connections use the one read again from the secret',
  databaseLoginUnchanged: 'the database secret still holds the login the database refused',
  databaseSecretUnreadable: 'the database secret could not be read; new connections keep the last login',
  heartbeatWriteUnanswered: 'the database did not answer a heartbeat write at all; closing its connection',
} as const;
