import { defaultLockName, type Env, EnvReader } from '@ghost-ha/core';

/** Where and how the database is reached, as Ghost reads it (`database__connection__*`). */
export interface DatabaseSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /**
   * The password itself (injected at task start), a Secrets Manager secret holding it (plain, or JSON
   * with `password` and optionally `username`), or both: the injected one first, the secret read
   * again when the server refuses the login (a rotation).
   */
  readonly password: string | undefined;
  readonly passwordSecretId: string | undefined;
  /** Least time between two reads of that secret. */
  readonly secretRereadMs: number;
  /**
   * TLS to the database, as Ghost reads it: mysql2's bundled CA profile (`Amazon RDS`), or the CA
   * certificates (PEM) the server's certificate must chain to. Undefined: no TLS. The server's
   * certificate and name are always verified.
   */
  readonly ssl: DatabaseTls | undefined;
}

export type DatabaseTls = 'Amazon RDS' | { readonly ca: string; readonly rejectUnauthorized: true };

export interface GhostSettings {
  /** Where the sidecar reaches Ghost inside the task, e.g. `http://127.0.0.1:2368`. */
  readonly url: string;
  /** The Host header Ghost expects: the host of its site url. */
  readonly host: string;
  /** `X-Forwarded-Proto` Ghost expects: the scheme of its site url (`https` avoids Ghost's redirect). */
  readonly forwardedProto: 'http' | 'https';
  /** The site url's subdirectory, e.g. `/blog`, or '' at the root. */
  readonly pathPrefix: string;
}

export interface CheckSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** How long Ghost may answer 503 (booting) or refuse connections after the lock is taken before it counts as failing. */
  readonly startupGraceMs: number;
  readonly diskFreeWarnBytes: number;
  /** How long the heartbeat write may take before `database:writeTime` warns (the write itself goes on). */
  readonly writeTimeoutMs: number;
  /** Heartbeat writes failing or unfinished this long turn `database:writeTime` to `fail`; 0: never. */
  readonly writeStallFailMs: number;
}

export interface LockSettings {
  /** MySQL named lock (at most 64 characters); one per site. */
  readonly name: string;
  /** How long one `GET_LOCK` call waits before it is repeated. */
  readonly waitSeconds: number;
  /** Pause before reconnecting after the lock connection failed. */
  readonly retryDelayMs: number;
}

/**
 * The lease that fences Ghost (see the README's "Fencing"). The holder promises that its Ghost is
 * stopped within `leaseTtlMs` of its last heartbeat; a new holder lets its own Ghost start only
 * after that, unless the previous holder recorded that its Ghost stopped.
 */
export interface FencingSettings {
  readonly leaseTtlMs: number;
  /** The Ghost container's ECS `stopTimeout`: how long ECS gives Ghost between SIGTERM and SIGKILL. */
  readonly ghostStopTimeoutMs: number;
  /** Room for ECS to notice the sidecar's exit and signal Ghost. */
  readonly marginMs: number;
  /**
   * How long a holder that cannot renew its lease keeps Ghost running before it exits (which stops
   * the task): `leaseTtlMs - ghostStopTimeoutMs - marginMs`. Database outages shorter than this
   * leave Ghost running.
   */
  readonly patienceMs: number;
  /** ECS task metadata endpoint (v4); the task ARN found there names the lease holder. */
  readonly metadataUri: string | undefined;
  /**
   * Where the sidecar writes its pid and deadline (last renewal + patience) for the container
   * health check, which kills the sidecar once the deadline has passed; undefined: not written.
   */
  readonly watchdogFile: string | undefined;
  /**
   * Time limit of one ECS `DescribeTasks` call, by which a standby learns that the lease holder's
   * task has stopped and takes over without waiting out the TTL; 0: never asked (time only).
   */
  readonly ecsDescribeTimeoutMs: number;
}

export interface ShutdownSettings {
  /** How long the gate waits for in-flight requests after SIGTERM. */
  readonly drainTimeoutMs: number;
  /** How long to wait for Ghost to stop answering before the lock is released anyway. */
  readonly ghostStopWaitMs: number;
  /** The container's stop timeout (ECS `stopTimeout`): the process exits before it. */
  readonly stopTimeoutMs: number;
}

export interface GateSettings {
  readonly port: number;
  /** Proxies in front of the gate that append to X-Forwarded-For (CloudFront and the ALB: 2). */
  readonly trustedProxies: number;
  readonly retryAfterSeconds: number;
  /** How long Ghost may take to start answering a request before the gate answers 504. */
  readonly responseTimeoutMs: number;
  /** Added to the Cache-Control of cacheable pages, so CloudFront may serve what it holds while Ghost errs. */
  readonly stale: { readonly ifErrorSeconds: number; readonly whileRevalidateSeconds: number };
}

/** The sidecar's settings as accepted from the environment. */
export interface SidecarConfig {
  readonly healthPort: number;
  /** Undefined when `GATE_PORT=0`. */
  readonly gate: GateSettings | undefined;
  readonly ghost: GhostSettings;
  readonly contentPath: string;
  readonly database: DatabaseSettings;
  readonly lock: LockSettings;
  readonly fencing: FencingSettings;
  readonly checks: CheckSettings;
  readonly shutdown: ShutdownSettings;
  readonly logLevel: string;
  /** CloudWatch namespace for the metrics as EMF lines on stdout; undefined: none are written. */
  readonly metrics: { readonly namespace: string | undefined; readonly intervalMs: number };
}

/** Time left for releasing the lock and exiting once draining and waiting for Ghost are over. */
export const EXIT_MARGIN_MS = 1_000;

const MAX_LOCK_NAME = 64;

/** Reads and checks every setting at once; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): SidecarConfig {
  const read = new EnvReader(env);
  const healthPort = read.int('HEALTH_PORT', { default: 9000, min: 0, max: 65535, example: '9000' });
  const gatePort = read.int('GATE_PORT', { default: 8080, min: 0, max: 65535, example: '8080 (0 disables the gate)' });
  // CloudFront appends the viewer's address, the ALB CloudFront's: the client is 2 entries from the end.
  const trustedProxies = read.int('GATE_TRUSTED_PROXIES', {
    default: 2,
    min: 0,
    max: 10,
    example: '2 (CloudFront and the ALB; 0 when nothing is in front of the gate)',
  });
  const retryAfterSeconds = read.int('GATE_RETRY_AFTER_SECONDS', { default: 5, min: 0, max: 3600, example: '5' });
  // Well under CloudFront's 30 s origin read timeout, so a reader is answered by the other region in time.
  const stale = {
    ifErrorSeconds: read.int('GATE_STALE_IF_ERROR_SECONDS', {
      default: 86_400,
      min: 0,
      max: 31_536_000,
      example: '86400',
    }),
    whileRevalidateSeconds: read.int('GATE_STALE_WHILE_REVALIDATE_SECONDS', {
      default: 60,
      min: 0,
      max: 86_400,
      example: '60',
    }),
  };
  const gateResponseTimeoutMs = read.int('GATE_RESPONSE_TIMEOUT_MS', {
    default: 10_000,
    min: 100,
    max: 25_000,
    example: '10000',
  });

  const ghostUrl =
    read.url('GHOST_URL', { example: 'http://127.0.0.1:2368', optional: true }) ?? 'http://127.0.0.1:2368';
  const siteUrl = read.url('SITE_URL', { example: 'https://blog.example.com', optional: true });
  const site = siteUrl ? new URL(siteUrl) : undefined;
  const ghostHost = read.string('GHOST_HOST', {
    default: site?.host ?? safeHost(ghostUrl),
    example: 'blog.example.com',
  });
  const forwardedProto = read.oneOf('GHOST_FORWARDED_PROTO', ['http', 'https'] as const, {
    default: site?.protocol === 'https:' ? 'https' : 'http',
    example: 'https',
  });

  const contentPath = read.string('CONTENT_PATH', {
    default: '/var/lib/ghost/content',
    example: '/var/lib/ghost/content',
  });
  if (!contentPath.startsWith('/'))
    read.problem(
      `'CONTENT_PATH' must be an absolute path (got '${contentPath}'). E.g. CONTENT_PATH=/var/lib/ghost/content`,
    );

  const sslSetting = read.raw('database__connection__ssl');
  // mysql2's bundled profiles (the one Ghost reads the same way): only this one exists.
  const sslProfile = sslSetting === 'Amazon RDS' ? sslSetting : undefined;
  if (sslSetting !== undefined && sslProfile === undefined) {
    read.problem(
      `'database__connection__ssl' must be 'Amazon RDS' (mysql2's CA bundle for RDS and Aurora; got '${sslSetting}'), or unset with database__connection__ssl__ca holding the CA. E.g. database__connection__ssl=Amazon RDS`,
    );
  }
  const sslCa = read.raw('database__connection__ssl__ca');
  const database: DatabaseSettings = {
    host: read.string('database__connection__host', { example: 'ghost.cluster-abc.eu-west-1.rds.amazonaws.com' }),
    port: read.int('database__connection__port', { default: 3306, min: 1, max: 65535, example: '3306' }),
    user: read.string('database__connection__user', { example: 'ghost' }),
    database: read.string('database__connection__database', { example: 'ghost' }),
    password: read.string('database__connection__password', { example: '…', optional: true }),
    passwordSecretId: read.string('DATABASE_PASSWORD_SECRET_ID', { example: 'ghost-ha/database-app', optional: true }),
    secretRereadMs: read.int('DATABASE_SECRET_REREAD_MS', {
      default: 30_000,
      min: 1_000,
      max: 3_600_000,
      example: '30000',
    }),
    ssl: sslProfile ?? (sslCa === undefined ? undefined : { ca: sslCa, rejectUnauthorized: true }),
  };
  if (sslSetting !== undefined && sslCa !== undefined) {
    read.problem(
      "Set only one of 'database__connection__ssl' and 'database__connection__ssl__ca'. E.g. database__connection__ssl=Amazon RDS",
    );
  }
  if (sslCa !== undefined && !sslCa.includes('-----BEGIN CERTIFICATE-----')) {
    read.problem(
      '\'database__connection__ssl__ca\' must hold PEM certificates. E.g. database__connection__ssl__ca="$(cat ca.pem)"',
    );
  }
  if (database.password === undefined && database.passwordSecretId === undefined) {
    read.problem(
      "'database__connection__password' or 'DATABASE_PASSWORD_SECRET_ID' is required. E.g. DATABASE_PASSWORD_SECRET_ID=ghost-ha/database-app",
    );
  }

  const lockName = read.string('LOCK_NAME', { default: defaultLockName(database.database), example: 'ghost-ha:ghost' });
  if (lockName.length > MAX_LOCK_NAME) {
    read.problem(
      `'LOCK_NAME' is longer than ${MAX_LOCK_NAME} characters (got '${lockName}'). E.g. LOCK_NAME=ghost-ha:ghost`,
    );
  }
  const lock: LockSettings = {
    name: lockName,
    waitSeconds: read.int('LOCK_WAIT_SECONDS', { default: 5, min: 1, max: 60, example: '5' }),
    retryDelayMs: read.int('LOCK_RETRY_DELAY_MS', { default: 2_000, min: 10, max: 60_000, example: '2000' }),
  };

  const checkTimeoutMs = read.int('CHECK_TIMEOUT_MS', { default: 2_000, min: 50, max: 120_000, example: '2000' });
  const checks: CheckSettings = {
    intervalMs: read.int('CHECK_INTERVAL_MS', { default: 5_000, min: 100, max: 300_000, example: '5000' }),
    timeoutMs: checkTimeoutMs,
    startupGraceMs: read.int('STARTUP_GRACE_MS', { default: 180_000, min: 0, max: 3_600_000, example: '180000' }),
    diskFreeWarnBytes:
      read.int('DISK_FREE_WARN_MB', { default: 1024, min: 0, max: 1_000_000_000, example: '1024' }) * 1024 * 1024,
    writeTimeoutMs: read.int('WRITE_PROBE_TIMEOUT_MS', {
      default: Math.floor(checkTimeoutMs / 2),
      min: 10,
      max: 120_000,
      example: '1000',
    }),
    writeStallFailMs: read.int('WRITE_STALL_FAIL_MS', {
      default: 60_000,
      min: 0,
      max: 86_400_000,
      example: '60000 (0: never fail on stalled writes)',
    }),
  };
  if (checks.timeoutMs >= checks.intervalMs) {
    read.problem(
      `'CHECK_TIMEOUT_MS' (${checks.timeoutMs}) must be shorter than 'CHECK_INTERVAL_MS' (${checks.intervalMs}). E.g. CHECK_INTERVAL_MS=5000 CHECK_TIMEOUT_MS=2000`,
    );
  }
  // The write probe answers within its own limit, so the round's timeout never has to cut it.
  if (checks.writeTimeoutMs >= checks.timeoutMs) {
    read.problem(
      `'WRITE_PROBE_TIMEOUT_MS' (${checks.writeTimeoutMs}) must be shorter than 'CHECK_TIMEOUT_MS' (${checks.timeoutMs}). E.g. CHECK_TIMEOUT_MS=2000 WRITE_PROBE_TIMEOUT_MS=1000`,
    );
  }
  if (checks.writeStallFailMs !== 0 && checks.writeStallFailMs <= checks.writeTimeoutMs) {
    read.problem(
      `'WRITE_STALL_FAIL_MS' (${checks.writeStallFailMs}) must be 0 (never fail) or longer than 'WRITE_PROBE_TIMEOUT_MS' (${checks.writeTimeoutMs}). E.g. WRITE_STALL_FAIL_MS=60000`,
    );
  }

  const leaseTtlMs = read.int('LEASE_TTL_MS', { default: 120_000, min: 1_000, max: 3_600_000, example: '120000' });
  const ghostStopTimeoutMs = read.int('GHOST_STOP_TIMEOUT_MS', {
    default: 30_000,
    min: 0,
    max: 600_000,
    example: '30000',
  });
  const fenceMarginMs = read.int('FENCE_MARGIN_MS', { default: 10_000, min: 0, max: 600_000, example: '10000' });
  const fencing: FencingSettings = {
    leaseTtlMs,
    ghostStopTimeoutMs,
    marginMs: fenceMarginMs,
    patienceMs: leaseTtlMs - ghostStopTimeoutMs - fenceMarginMs,
    metadataUri: read.url('ECS_CONTAINER_METADATA_URI_V4', { example: 'http://169.254.170.2/v4/abc', optional: true }),
    watchdogFile: read.string('WATCHDOG_FILE', { example: '/tmp/watchdog.json', optional: true }),
    ecsDescribeTimeoutMs: read.int('ECS_DESCRIBE_TIMEOUT_MS', { default: 2_000, min: 0, max: 30_000, example: '2000' }),
  };
  if (fencing.watchdogFile !== undefined && !fencing.watchdogFile.startsWith('/'))
    read.problem(
      `'WATCHDOG_FILE' must be an absolute path (got '${fencing.watchdogFile}'). E.g. WATCHDOG_FILE=/tmp/watchdog.json`,
    );
  if (fencing.patienceMs < 2 * checks.intervalMs) {
    read.problem(
      `'LEASE_TTL_MS' (${leaseTtlMs}) must exceed 'GHOST_STOP_TIMEOUT_MS' (${ghostStopTimeoutMs}) + 'FENCE_MARGIN_MS' (${fenceMarginMs}) by at least two check intervals (${2 * checks.intervalMs}), the time a holder keeps Ghost running while it cannot renew its lease. E.g. LEASE_TTL_MS=120000 GHOST_STOP_TIMEOUT_MS=30000 FENCE_MARGIN_MS=10000`,
    );
  }

  const shutdown: ShutdownSettings = {
    drainTimeoutMs: read.int('DRAIN_TIMEOUT_MS', { default: 10_000, min: 0, max: 600_000, example: '10000' }),
    ghostStopWaitMs: read.int('GHOST_STOP_WAIT_MS', { default: 20_000, min: 0, max: 600_000, example: '20000' }),
    stopTimeoutMs: read.int('STOP_TIMEOUT_MS', { default: 30_000, min: 2_000, max: 600_000, example: '30000' }),
  };
  const budget = shutdown.stopTimeoutMs - EXIT_MARGIN_MS;
  if (shutdown.drainTimeoutMs > budget) {
    read.problem(
      `'DRAIN_TIMEOUT_MS' (${shutdown.drainTimeoutMs}) must leave ${EXIT_MARGIN_MS} ms of 'STOP_TIMEOUT_MS' (${shutdown.stopTimeoutMs}) to release the lock and exit. E.g. DRAIN_TIMEOUT_MS=10000 STOP_TIMEOUT_MS=30000`,
    );
  }
  if (shutdown.ghostStopWaitMs > budget) {
    read.problem(
      `'GHOST_STOP_WAIT_MS' (${shutdown.ghostStopWaitMs}) must leave ${EXIT_MARGIN_MS} ms of 'STOP_TIMEOUT_MS' (${shutdown.stopTimeoutMs}) to release the lock and exit. E.g. GHOST_STOP_WAIT_MS=20000 STOP_TIMEOUT_MS=30000`,
    );
  }

  const logLevel = read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, {
    default: 'info',
    example: 'info',
  });
  const metrics = {
    namespace: read.string('METRICS_NAMESPACE', { optional: true, example: 'ghost-ha/HealthSidecar' }),
    intervalMs: read.int('METRICS_INTERVAL_SECONDS', { default: 60, min: 1, max: 3600, example: '60' }) * 1000,
  };
  read.done();

  return {
    healthPort,
    gate:
      gatePort === 0
        ? undefined
        : { port: gatePort, trustedProxies, retryAfterSeconds, responseTimeoutMs: gateResponseTimeoutMs, stale },
    ghost: {
      url: ghostUrl,
      host: ghostHost,
      forwardedProto,
      pathPrefix: site ? site.pathname.replace(/\/+$/, '') : '',
    },
    contentPath,
    database,
    lock,
    fencing,
    checks,
    shutdown,
    logLevel,
    metrics,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '127.0.0.1:2368';
  }
}
