export {
  BACKUP_FORMAT,
  type BackupLocation,
  BackupStore,
  formatLocation,
  type PostsBackup,
  parseLocation,
} from './BackupStore.js';
export {
  BackupError,
  ConfirmationError,
  FilterError,
  GhostUnavailableError,
  InvalidEventError,
  RestoreInProgressError,
  TimeMarginError,
} from './errors.js';
export { nqlShorthands, quoteNql } from './nqlShorthands.js';
export { confirmSiteField, dryRunField, eventFields } from './eventFields.js';
export { fetchAllPages } from './fetchAllPages.js';
export { type FunctionSettings, readFunctionSettings } from './functionSettings.js';
export { type GhostSite, GhostSiteConnector } from './GhostSiteConnector.js';
export type { LambdaContext } from './LambdaContext.js';
export { requireConfirmation } from './requireConfirmation.js';
export { siteName } from './siteName.js';
export { timeBudget } from './timeBudget.js';
