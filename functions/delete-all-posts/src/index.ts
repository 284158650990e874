export {
  BACKUP_FORMAT,
  type BackupLocation,
  BackupStore,
  formatLocation,
  type PostsBackup,
  parseLocation,
} from './BackupStore.js';
export { readForcePathStyle } from './config.js';
export { BackupError, ConfirmationError, GhostUnavailableError, InvalidEventError } from './errors.js';
export { type GhostSite, GhostSiteConnector } from './GhostSiteConnector.js';
export type { LambdaContext } from './LambdaContext.js';
export { siteName } from './siteName.js';
