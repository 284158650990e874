/**
 * The log messages of the content functions that operators search on (CloudWatch Logs Insights:
 * `filter msg = "run failed"`); each line's fields say which function and what it did.
 */
export const CONTENT_LOG = {
  invoked: 'invoked',
  backupWritten: 'backup written',
  dryRunFinished: 'dry run finished',
  runFinished: 'run finished',
  runFailed: 'run failed',
  restoreFinished: 'restore finished',
  restoreFailed: 'restore failed',
} as const;
