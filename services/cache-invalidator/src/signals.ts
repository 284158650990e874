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

/**
 * Log messages (pino's `msg`) that operators search or alert on, one place for the code that writes
 * them and the filters and runbooks that read them. Changing one breaks whatever matches it.
 */
export const INVALIDATOR_LOG = {
  listening: 'cache invalidator listening',
  stopped: 'cache invalidator stopped',
  unsignedWebhooks:
    'ALLOW_UNSIGNED_WEBHOOKS=true: webhooks are accepted without a signature; anyone who can reach this port can trigger invalidations',
  /** Start: torn or corrupt journal lines skipped (fields `skipped`, `skippedCount`). */
  journalSkipped: 'journal: skipped what was not a whole record',
  resuming: 'resuming work found in the journal',
  /** Start: `JOURNAL_DIR/signatures.log` could not be read (field `error`); the service runs on. */
  signaturesUnreadable:
    'replay memory unreadable: deliveries accepted before this start are not refused as replays, and new signatures are kept in memory only until the next start',
  /** Start: corrupt or torn lines of `signatures.log` skipped (fields `skipped`, `skippedCount`, `remembered`). */
  signaturesSkipped: 'replay memory: skipped what was not a whole record; those deliveries are not refused as replays',
  /** Writing `signatures.log` failed: the delivery was taken, but a restart no longer refuses its replay. */
  signatureNotJournaled: 'could not write the replay memory; a restart forgets the signatures not written',
  /** A new AWSCURRENT webhook secret (field `previousAcceptedUntil`): re-register Ghost's webhooks before then. */
  webhookSecretRotated: 'webhook secret rotated; the previous one is accepted until the overlap ends',
  /** Reading the webhook secret failed or gave a blank value: the last good secrets stay in force. */
  webhookSecretReloadFailed: 'could not reload the webhook secret; keeping the last good one',
  /** A webhook or manual request answered 503: nothing was accepted. */
  requestNotJournaled: 'could not journal a request',
  requestFailed: 'request failed',
  bodyTooLarge: 'body too large',
  batchCut: 'invalidation batch cut',
  /** A lone site.changed within SITE_CHANGED_MIN_INTERVAL_MS of the last `/*`: it waits, merged, for the next one. */
  siteChangedDeferred: 'site change waits for the next allowed /*',
  /** The day's invalidated paths passed DAILY_INVALIDATION_PATH_BUDGET (fields `pathsToday`, `budget`). */
  pathBudgetExceeded: 'daily invalidation path budget exceeded',
  batchNotJournaled: 'could not journal a batch; retrying after the window',
  sentNotJournaled: 'could not journal an accepted invalidation',
  quarantineNotJournaled: 'could not journal quarantined paths; they are kept in memory',
  rewriteFailedAtStart: 'could not rewrite the journal at start',
  rewriteFailed: 'could not rewrite the journal; it keeps growing',
  mirrorRefreshNotJournaled: 'could not journal a mirror refresh',
  invalidationCreated: 'invalidation created',
  alreadyAccepted: 'batch had already been accepted',
  /** A permanent error (no such distribution, access denied): the batch is kept and retried slowly. */
  permanentFailure: 'CloudFront refused the invalidation; kept for retry',
  recovered: 'distribution accepts invalidations again',
  /** CloudFront refused a batch's content (InvalidArgument): the batch is split to find the refused paths. */
  refused: 'CloudFront refused the batch; splitting it to find the refused paths',
  /** Fields `refused` (paths and error), `calls`: what stays refused is quarantined until released. */
  pathsQuarantined: 'paths refused for good were quarantined; the rest were sent',
  /** `POST /invalidations` with `release`: quarantined paths sent again (fields `released`). */
  quarantineReleased: 'quarantined paths released',
  busy: 'distribution busy; waiting for room',
  retrying: 'invalidation failed; retrying',
  lookupFailed: 'could not look for an earlier invalidation',
  senderStopped: 'sender stopped unexpectedly',
  shutdownFlushFailed: 'shutdown flush failed; the journal keeps the work',
  registrationFailed: 'registering webhooks failed',
  webhooksRegistered: 'webhooks registered',
  /** After a rotation: Ghost's webhooks set to the new secret (fields `updated`, `missing`, `failed`). */
  webhookSecretsUpdated: "Ghost's webhooks updated to the new secret",
  /** After a rotation: a webhook Ghost did not take (fields as above); tried again at the next reload. */
  webhookSecretsUpdateFailed: "some of Ghost's webhooks kept the previous secret; tried again at the next reload",
  /** The second setting, once deliveries in flight at the change were answered, or a correction (field `updated`). */
  webhookSecretsSetAgain: "Ghost's webhooks set to the new secret again",
  /** That setting failed for some (fields as above); a delivery still signed with the previous secret sets its webhook again. */
  webhookSecretsSetAgainFailed:
    "setting Ghost's webhooks to the new secret again failed; a delivery still signed with the previous secret sets its webhook again",
  /**
   * Ghost put the previous secret back on a webhook (fields `event`, `signedAt`, `setAt`): after each
   * delivery Ghost saves the whole webhook row it read, undoing a secret set in between. Set again.
   */
  webhookSecretPutBack:
    'Ghost signed a delivery with the previous secret after its webhook was set to the new one; setting it again',
  /** A rotation with no webhook ids kept: Ghost's webhooks must be updated by hand (README runbook). */
  webhookSecretsNotUpdated:
    "webhook secret rotated but this service knows no webhook ids: update Ghost's webhooks by hand",
} as const;

/**
 * Log fields with a stable meaning: `error` is always `summarizeError`'s `{ name, message, ... }`;
 * `module` names the writing file's logger; `distributionId` and `batchId` name what a sender
 * line is about; `reason` is a rejected request's error code (its message is the answer's text).
 */
export const INVALIDATOR_LOG_FIELDS = {
  error: 'error',
  module: 'module',
  distributionId: 'distributionId',
  batchId: 'batchId',
  reason: 'reason',
} as const;
