export { BackupSigner, SIGNATURE_METADATA } from './BackupSigner.js';
export {
  type BackupLocation,
  BackupStore,
  backupText,
  DEFAULT_BACKUP_MAX_BYTES,
  formatLocation,
  parseLocation,
} from './BackupStore.js';
export {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type BackupSource,
  type ContentBackup,
  type GhostExport,
  type GhostTableRows,
  LEGACY_BACKUP_FORMAT,
  type LegacyPostsBackup,
  type Unrestorable,
} from './ContentBackup.js';
export { CONTENT_LOG } from './contentLog.js';
export {
  BackupError,
  BackupRefusedError,
  ConfirmationError,
  FilterError,
  GhostUnavailableError,
  InvalidEventError,
  RestoreInProgressError,
  TimeMarginError,
} from './errors.js';
export { confirmSiteField, dryRunField, eventFields } from './eventFields.js';
export { fetchAllPages } from './fetchAllPages.js';
export { type FunctionSettings, readFunctionSettings } from './functionSettings.js';
export { GhostDb } from './GhostDb.js';
export { type GhostSite, GhostSiteConnector, ghostMessage } from './GhostSiteConnector.js';
export type { LambdaContext } from './LambdaContext.js';
export { nqlShorthands, quoteNql } from './nqlShorthands.js';
export { type LeaseHolder, RestoreLease } from './RestoreLease.js';
export { CONTENT_SIGNALS, type PostAction, RunMetrics, type RunResult } from './RunMetrics.js';
export { requireConfirmation } from './requireConfirmation.js';
export { siteName } from './siteName.js';
export { timeBudget } from './timeBudget.js';
export { trimGhostExport, unrestorableIn } from './trimGhostExport.js';
