import { type Env, EnvReader } from '@ghost-ha/core';

/** The function's settings as it uses them, read once from the environment. */
export interface DeleteAllPostsConfig {
  /** Secrets Manager secret with `{"url": "...", "adminApiKey": "id:secret"}`. */
  readonly ghostSecretId: string;
  readonly backupBucket: string;
  /** Prepended to every backup key; ends with `/` unless empty. */
  readonly backupPrefix: string;
  /** When set, the function purges `/*` itself instead of relying on the cache-invalidator's webhook. */
  readonly cloudfrontDistributionId: string | undefined;
  /** Path-style S3 URLs, which local stand-ins such as moto need. */
  readonly s3ForcePathStyle: boolean;
  /** Parallel single deletes when Ghost has no bulk delete. */
  readonly fallbackConcurrency: number;
  /** Stop starting new work when less than this much of the invocation's time is left. */
  readonly timeMarginMs: number;
  readonly logLevel: string;
}

/** Reads and checks every setting at once; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): DeleteAllPostsConfig {
  const read = new EnvReader(env);
  const config: DeleteAllPostsConfig = {
    ghostSecretId: read.string('GHOST_SECRET_ID', { example: 'ghost/blog.example.com/admin-api' }),
    backupBucket: read.string('BACKUP_BUCKET', { example: 'blog-example-com-content-backups' }),
    backupPrefix: normalizePrefix(read.string('BACKUP_PREFIX', { default: 'delete-all-posts/', example: 'backups/' })),
    cloudfrontDistributionId: read.string('CLOUDFRONT_DISTRIBUTION_ID', { optional: true, example: 'E2QWRUHAPOMQZL' }),
    s3ForcePathStyle: readForcePathStyle(read),
    fallbackConcurrency: read.int('FALLBACK_CONCURRENCY', { default: 4, min: 1, max: 20, example: '4' }),
    timeMarginMs: read.int('TIME_MARGIN_MS', { default: 20_000, min: 1_000, max: 600_000, example: '20000' }),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
      example: 'info',
    }),
  };
  read.done();
  return config;
}

/**
 * Path-style addressing is what S3 stand-ins (moto, MinIO) understand. Real S3 wants virtual-hosted
 * style, so the default follows whether a custom endpoint is configured.
 */
export function readForcePathStyle(read: EnvReader): boolean {
  return read.bool('AWS_S3_FORCE_PATH_STYLE', { default: read.raw('AWS_ENDPOINT_URL') !== undefined, example: 'true' });
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
