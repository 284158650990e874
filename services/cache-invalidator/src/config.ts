import { isIP } from 'node:net';
import { type Env, EnvReader } from '@ghost-ha/core';

/** Settings as read from the environment: secrets may still be Secrets Manager ids. */
export interface CacheInvalidatorConfig {
  port: number;
  /** Address to listen on: loopback by default, as Ghost and the health check reach it in the task. */
  listenHost: string;
  /** Ghost's configured url; its path (e.g. `/blog`) prefixes every planned path. */
  siteUrl: string;
  distributionIds: readonly string[];
  webhookSecret: string | undefined;
  webhookSecretId: string | undefined;
  /** With WEBHOOK_SECRET_ID: how often the secret is read again to follow a rotation. */
  webhookSecretReloadMs: number;
  /** How long after a rotation the previous webhook secret is still accepted. */
  webhookSecretOverlapMs: number;
  allowUnsignedWebhooks: boolean;
  signatureToleranceMs: number;
  maxBodyBytes: number;
  journalDir: string;
  windowMs: number;
  maxWaitMs: number;
  echoWindowMs: number;
  /** At most one `/*` for lone site.changed events per this period; the rest wait, merged. */
  siteChangedMinIntervalMs: number;
  /** Invalidated paths per UTC day before the budget metric (and its alarm) trips. */
  dailyPathBudget: number;
  wildcardThreshold: number;
  maxPathsPerBatch: number;
  maxWildcardsPerBatch: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  busyDelayMs: number;
  permanentErrorDelayMs: number;
  readyMaxPendingAgeMs: number;
  /** How often the readiness checks run in the background; probes read the last round. */
  checkIntervalMs: number;
  checkTimeoutMs: number;
  manualToken: string | undefined;
  manualTokenSecretId: string | undefined;
  shutdownGraceMs: number;
  logLevel: string;
  /** CloudWatch namespace for the EMF lines on stdout; unset: none are written. */
  metricsNamespace: string | undefined;
  metricsIntervalMs: number;
  /** Registration: where this service is reachable from Ghost, e.g. `http://127.0.0.1:3000`. */
  publicUrl: string | undefined;
  /** Registration: Ghost's Admin API base (defaults to the site url). */
  ghostAdminUrl: string;
  ghostAdminApiKey: string | undefined;
  ghostAdminSecretId: string | undefined;
  registerWebhooksOnStart: boolean;
  /** The static mirror; undefined when MIRROR_BUCKET is unset. */
  mirror: MirrorSettings | undefined;
}

export interface MirrorSettings {
  bucket: string;
  /** The bucket's region (it lives in the region that is not serving); default the SDK's. */
  region: string | undefined;
  /** Key prefix: the mirror origin's OriginPath without its slash. */
  prefix: string;
  /** Ghost as this service reaches it without CloudFront: the gate in the task. */
  originUrl: string;
  concurrency: number;
  /** Longest wait for an answer's headers, and between two chunks of a body. */
  fetchTimeoutMs: number;
  buildOnEmpty: boolean;
  /** A start with pages in the mirror crawls the whole site (after a failover: what the old region's journal lost). */
  reconcileOnStart: boolean;
  /** Time between two reconciles (full crawls) while running; 0: none. */
  reconcileIntervalMs: number;
  /** Largest HTML/CSS/XML body read (held in memory to find links); larger is not mirrored. */
  maxPageBytes: number;
  /** Largest file streamed to the bucket; larger is not mirrored. */
  maxFileBytes: number;
  /** Longest `max-age` stored with a mirror object. */
  maxCacheSeconds: number;
  /** Failed fetches of one path, while the site answers, before it is parked. */
  maxAttempts: number;
  /** How often parked paths are tried again. */
  parkedRetryMs: number;
  /** After a change, how long before the paths Ghost answered 404 for are fetched once more (0: never). */
  recheckGoneMs: number;
  /** Largest share of the mirror one job may remove. */
  maxRemoveShare: number;
  /** Ghost's content path, mounted read-only: the mirror reads Ghost's redirects file from `data/`. */
  ghostContentPath: string | undefined;
}

/** Settings in use, with secrets resolved. `webhookSecret` undefined only when unsigned webhooks were allowed. */
export interface ResolvedConfig extends CacheInvalidatorConfig {
  webhookSecret: string | undefined;
  manualToken: string | undefined;
  /** GHOST_ADMIN_API_KEY, or the value of GHOST_ADMIN_SECRET_ID. */
  ghostAdminApiKey: string | undefined;
}

/** Reads every setting once; every problem is reported together, naming the variable. */
export function loadConfig(env: Env): CacheInvalidatorConfig {
  const read = new EnvReader(env);
  const siteUrl = read.url('SITE_URL', { example: 'https://example.com/blog' });
  const config: CacheInvalidatorConfig = {
    port: read.int('PORT', { default: 3000, min: 0, max: 65535, example: '3000' }),
    listenHost: read.string('LISTEN_HOST', { default: '127.0.0.1', example: '127.0.0.1 (0.0.0.0: every interface)' }),
    siteUrl,
    distributionIds: read.list('CLOUDFRONT_DISTRIBUTION_IDS', { example: 'E2QWRUHAPOMQZL,E1ABCDEF234567' }),
    webhookSecret: read.string('WEBHOOK_SECRET', { optional: true, example: 'a-long-random-string' }),
    webhookSecretId: read.string('WEBHOOK_SECRET_ID', { optional: true, example: 'ghost/webhook-secret' }),
    webhookSecretReloadMs:
      read.int('WEBHOOK_SECRET_RELOAD_SECONDS', { default: 60, min: 1, max: 3600, example: '60' }) * 1000,
    // At least a minute: Ghost retries a delivery it timed out (2 s) five times over about half a
    // minute with the signature it first made; a shorter overlap refuses those made with the old secret.
    webhookSecretOverlapMs:
      read.int('WEBHOOK_SECRET_OVERLAP_SECONDS', { default: 3600, min: 60, max: 7 * 86_400, example: '3600' }) * 1000,
    allowUnsignedWebhooks: read.bool('ALLOW_UNSIGNED_WEBHOOKS', { default: false, example: 'false' }),
    signatureToleranceMs:
      read.int('WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', { default: 300, min: 1, max: 86_400, example: '300' }) * 1000,
    maxBodyBytes: read.int('WEBHOOK_MAX_BODY_BYTES', {
      default: 5 * 1024 * 1024,
      min: 1024,
      max: 100 * 1024 * 1024,
      example: '5242880',
    }),
    journalDir: read.string('JOURNAL_DIR', {
      default: '/var/lib/cache-invalidator',
      example: '/var/lib/cache-invalidator',
    }),
    windowMs: read.int('INVALIDATION_WINDOW_MS', { default: 5000, min: 0, max: 600_000, example: '5000' }),
    maxWaitMs: read.int('INVALIDATION_MAX_WAIT_MS', { default: 30_000, min: 0, max: 3_600_000, example: '30000' }),
    echoWindowMs: read.int('SITE_CHANGED_ECHO_WINDOW_MS', { default: 1000, min: 0, max: 60_000, example: '1000' }),
    siteChangedMinIntervalMs: read.int('SITE_CHANGED_MIN_INTERVAL_MS', {
      default: 300_000,
      min: 0,
      max: 3_600_000,
      example: '300000',
    }),
    dailyPathBudget: read.int('DAILY_INVALIDATION_PATH_BUDGET', {
      default: 1000,
      min: 1,
      max: 1_000_000,
      example: '1000',
    }),
    wildcardThreshold: read.int('WILDCARD_THRESHOLD', { default: 20, min: 2, max: 3000, example: '20' }),
    maxPathsPerBatch: read.int('MAX_PATHS_PER_BATCH', { default: 300, min: 1, max: 3000, example: '300' }),
    maxWildcardsPerBatch: read.int('MAX_WILDCARDS_PER_BATCH', { default: 10, min: 1, max: 15, example: '10' }),
    retryBaseDelayMs: read.int('RETRY_BASE_DELAY_MS', { default: 500, min: 1, max: 60_000, example: '500' }),
    retryMaxDelayMs: read.int('RETRY_MAX_DELAY_MS', { default: 60_000, min: 1, max: 3_600_000, example: '60000' }),
    busyDelayMs: read.int('BUSY_RETRY_DELAY_MS', { default: 30_000, min: 1, max: 3_600_000, example: '30000' }),
    permanentErrorDelayMs: read.int('PERMANENT_ERROR_RETRY_DELAY_MS', {
      default: 300_000,
      min: 1,
      max: 86_400_000,
      example: '300000',
    }),
    readyMaxPendingAgeMs:
      read.int('READY_MAX_PENDING_AGE_SECONDS', { default: 900, min: 1, max: 86_400, example: '900' }) * 1000,
    checkIntervalMs: read.int('CHECK_INTERVAL_MS', { default: 2_000, min: 100, max: 300_000, example: '2000' }),
    checkTimeoutMs: read.int('CHECK_TIMEOUT_MS', { default: 1_000, min: 50, max: 120_000, example: '1000' }),
    manualToken: read.string('MANUAL_INVALIDATION_TOKEN', { optional: true, example: 'a-long-random-string' }),
    manualTokenSecretId: read.string('MANUAL_INVALIDATION_TOKEN_SECRET_ID', {
      optional: true,
      example: 'ghost/invalidator-token',
    }),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', { default: 5000, min: 0, max: 120_000, example: '5000' }),
    metricsNamespace: read.string('METRICS_NAMESPACE', { optional: true, example: 'ghost-ha/CacheInvalidator' }),
    metricsIntervalMs: read.int('METRICS_INTERVAL_SECONDS', { default: 60, min: 1, max: 3600, example: '60' }) * 1000,
    logLevel: read.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
      default: 'info',
      example: 'info',
    }),
    publicUrl: read.url('PUBLIC_URL', { optional: true, example: 'http://127.0.0.1:3000' }),
    ghostAdminUrl: read.url('GHOST_ADMIN_URL', { optional: true, example: 'http://127.0.0.1:2368' }) ?? siteUrl,
    ghostAdminApiKey: read.string('GHOST_ADMIN_API_KEY', { optional: true, example: '6489f3f0a1b2c3d4e5f60718:0123…' }),
    ghostAdminSecretId: read.string('GHOST_ADMIN_SECRET_ID', { optional: true, example: 'ghost/admin-api-key' }),
    registerWebhooksOnStart: read.bool('REGISTER_WEBHOOKS_ON_START', { default: false, example: 'true' }),
    mirror: readMirrorSettings(read),
  };
  if (isIP(config.listenHost) === 0) {
    read.problem(
      `'LISTEN_HOST' must be an IP address (got '${config.listenHost}'). E.g. LISTEN_HOST=127.0.0.1 (0.0.0.0: every interface)`,
    );
  }
  // Unset is reported as required already; this catches a value of only commas.
  if (config.distributionIds.length === 0 && read.raw('CLOUDFRONT_DISTRIBUTION_IDS') !== undefined) {
    read.problem("'CLOUDFRONT_DISTRIBUTION_IDS' lists no id. E.g. CLOUDFRONT_DISTRIBUTION_IDS=E2QWRUHAPOMQZL");
  }
  for (const id of config.distributionIds) {
    if (!/^[A-Z0-9]{1,64}$/.test(id)) {
      read.problem(
        `'CLOUDFRONT_DISTRIBUTION_IDS' has '${id}', which is not a distribution id. E.g. CLOUDFRONT_DISTRIBUTION_IDS=E2QWRUHAPOMQZL`,
      );
    }
  }
  if (config.webhookSecret && config.webhookSecretId) {
    read.problem(
      "Set only one of 'WEBHOOK_SECRET' and 'WEBHOOK_SECRET_ID'. E.g. WEBHOOK_SECRET_ID=ghost/webhook-secret",
    );
  }
  if (!config.webhookSecret && !config.webhookSecretId && !config.allowUnsignedWebhooks) {
    read.problem(
      "'WEBHOOK_SECRET' or 'WEBHOOK_SECRET_ID' is required (or ALLOW_UNSIGNED_WEBHOOKS=true to accept unsigned webhooks). E.g. WEBHOOK_SECRET_ID=ghost/webhook-secret",
    );
  }
  if (config.manualToken && config.manualTokenSecretId) {
    read.problem(
      "Set only one of 'MANUAL_INVALIDATION_TOKEN' and 'MANUAL_INVALIDATION_TOKEN_SECRET_ID'. E.g. MANUAL_INVALIDATION_TOKEN_SECRET_ID=ghost/invalidator-token",
    );
  }
  if (config.checkTimeoutMs >= config.checkIntervalMs) {
    read.problem(
      `'CHECK_TIMEOUT_MS' (${config.checkTimeoutMs}) must be shorter than 'CHECK_INTERVAL_MS' (${config.checkIntervalMs}). E.g. CHECK_INTERVAL_MS=2000 CHECK_TIMEOUT_MS=1000`,
    );
  }
  if (config.maxWaitMs < config.windowMs) {
    read.problem(
      `'INVALIDATION_MAX_WAIT_MS' (${config.maxWaitMs}) must be at least INVALIDATION_WINDOW_MS (${config.windowMs}). E.g. INVALIDATION_MAX_WAIT_MS=30000`,
    );
  }
  if (config.siteChangedMinIntervalMs >= config.readyMaxPendingAgeMs) {
    read.problem(
      `'SITE_CHANGED_MIN_INTERVAL_MS' (${config.siteChangedMinIntervalMs}) must be shorter than READY_MAX_PENDING_AGE_SECONDS (${config.readyMaxPendingAgeMs / 1000} s): a waiting site change would fail readiness. E.g. SITE_CHANGED_MIN_INTERVAL_MS=300000`,
    );
  }
  if (config.registerWebhooksOnStart && !config.publicUrl) {
    read.problem(
      "'PUBLIC_URL' is required with REGISTER_WEBHOOKS_ON_START=true. E.g. PUBLIC_URL=http://127.0.0.1:3000",
    );
  }
  if (config.registerWebhooksOnStart && !config.ghostAdminApiKey && !config.ghostAdminSecretId) {
    read.problem(
      "'GHOST_ADMIN_API_KEY' or 'GHOST_ADMIN_SECRET_ID' is required with REGISTER_WEBHOOKS_ON_START=true. E.g. GHOST_ADMIN_SECRET_ID=ghost/admin-api-key",
    );
  }
  read.done();
  return config;
}

function readMirrorSettings(read: EnvReader): MirrorSettings | undefined {
  const bucket = read.string('MIRROR_BUCKET', { optional: true, example: 'ghost-ha-mirror-123456789012-eu-central-1' });
  const settings: MirrorSettings = {
    bucket: bucket ?? '',
    region: read.string('MIRROR_BUCKET_REGION', { optional: true, example: 'eu-central-1' }),
    prefix: read.string('MIRROR_PREFIX', { default: 'site', example: 'site' }),
    originUrl:
      read.url('MIRROR_ORIGIN_URL', { optional: true, example: 'http://127.0.0.1:8080' }) ?? 'http://127.0.0.1:8080',
    concurrency: read.int('MIRROR_CONCURRENCY', { default: 2, min: 1, max: 32, example: '2' }),
    fetchTimeoutMs: read.int('MIRROR_FETCH_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000, example: '10000' }),
    buildOnEmpty: read.bool('MIRROR_BUILD_ON_EMPTY', { default: true, example: 'true' }),
    reconcileOnStart: read.bool('MIRROR_RECONCILE_ON_START', { default: true, example: 'true' }),
    reconcileIntervalMs: read.int('MIRROR_RECONCILE_INTERVAL_MS', {
      default: 86_400_000,
      min: 0,
      max: 7 * 86_400_000,
      example: '86400000',
    }),
    maxPageBytes: read.int('MIRROR_MAX_PAGE_BYTES', {
      default: 5 * 1024 * 1024,
      min: 64 * 1024,
      max: 64 * 1024 * 1024,
      example: '5242880',
    }),
    maxFileBytes: read.int('MIRROR_MAX_FILE_BYTES', {
      default: 256 * 1024 * 1024,
      min: 1024 * 1024,
      max: 5 * 1024 * 1024 * 1024,
      example: '268435456',
    }),
    maxCacheSeconds: read.int('MIRROR_MAX_CACHE_SECONDS', { default: 600, min: 0, max: 86_400, example: '600' }),
    maxAttempts: read.int('MIRROR_MAX_ATTEMPTS', { default: 5, min: 1, max: 100, example: '5' }),
    parkedRetryMs: read.int('MIRROR_PARKED_RETRY_MS', {
      default: 600_000,
      min: 1_000,
      max: 86_400_000,
      example: '600000',
    }),
    recheckGoneMs: read.int('MIRROR_RECHECK_GONE_MS', { default: 3_000, min: 0, max: 600_000, example: '3000' }),
    maxRemoveShare: read.number('MIRROR_MAX_REMOVE_SHARE', { default: 0.25, min: 0, max: 1, example: '0.25' }),
    ghostContentPath: read.string('MIRROR_GHOST_CONTENT_PATH', { optional: true, example: '/var/lib/ghost/content' }),
  };
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    read.problem(
      `'MIRROR_BUCKET' has '${bucket}', which is not an S3 bucket name. E.g. MIRROR_BUCKET=ghost-ha-mirror-123456789012-eu-central-1`,
    );
  }
  if (settings.reconcileIntervalMs > 0 && settings.reconcileIntervalMs < 600_000) {
    read.problem(
      `'MIRROR_RECONCILE_INTERVAL_MS' has ${settings.reconcileIntervalMs}: a full crawl at most every 10 minutes (600000), or 0 for none. E.g. MIRROR_RECONCILE_INTERVAL_MS=86400000`,
    );
  }
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(settings.prefix)) {
    read.problem(
      `'MIRROR_PREFIX' must be one path segment (letters, digits, '.', '_', '-'), the mirror origin's OriginPath without '/'. E.g. MIRROR_PREFIX=site`,
    );
  }
  return bucket === undefined ? undefined : settings;
}
