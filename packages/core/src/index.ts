export { type Check, type HealthStatus, type Observation, worstStatus } from './Check.js';
export { type EmfMetricIdentity, EmfPublisher, type EmfPublisherOptions } from './EmfPublisher.js';
export { type Env, EnvReader } from './EnvReader.js';
export {
  CheckTimeoutError,
  ConfigError,
  GhostApiError,
  SecretAccessDeniedError,
  SecretError,
  SecretMalformedError,
  SecretNotFoundError,
} from './errors.js';
export {
  type BrowseOptions,
  type BulkDeleteResult,
  type ContentResource,
  GhostAdminClient,
  type GhostAdminClientOptions,
  type GhostPost,
  type Pagination,
} from './GhostAdminClient.js';
export { ghostAdminToken, isAdminApiKey } from './ghostAdminToken.js';
export { HealthMetrics } from './HealthMetrics.js';
export { HEALTH_LOG, HealthMonitor, type HealthMonitorOptions, type HealthObserver } from './HealthMonitor.js';
export { type CheckEntry, HEALTH_CONTENT_TYPE, type HealthReport, RenderedReport } from './HealthReport.js';
export { defaultLockName, LEASE_TABLE, leaseTableDdl, provisionLeaseSql } from './leaseTable.js';
export {
  createLogger,
  type ErrorSummary,
  errorReason,
  type Logger,
  type LoggerSettings,
  REDACTED_PATHS,
  summarizeError,
} from './logger.js';
export { createRegistry, Registry } from './metrics.js';
export {
  CONFIG_EXIT_CODE,
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  FAILED_EXIT_CODE,
  MAIN_LOG,
  type MainContext,
  type MainIo,
  type MainSignal,
  type RunMainOptions,
  runMain,
  type StopFunction,
} from './runMain.js';
export { SecretsLoader, type SecretsLoaderOptions, type SecretVersion } from './SecretsLoader.js';
