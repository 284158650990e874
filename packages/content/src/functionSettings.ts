import type { EnvReader } from '@ghost-ha/core';

/** Settings every content function reads the same way. */
export interface FunctionSettings {
  /** Secrets Manager secret with `{"url": "...", "adminApiKey": "id:secret"}`. */
  readonly ghostSecretId: string;
  readonly backupBucket: string;
  /** Path-style S3 URLs, which local stand-ins such as moto need. */
  readonly s3ForcePathStyle: boolean;
  /** Stop starting new work when less than this much of the invocation's time is left. */
  readonly timeMarginMs: number;
  readonly logLevel: string;
  /** CloudWatch namespace for each run's metrics as EMF lines in the log; undefined: none. */
  readonly metricsNamespace: string | undefined;
}

export function readFunctionSettings(read: EnvReader): FunctionSettings {
  return {
    ghostSecretId: read.string('GHOST_SECRET_ID', { example: 'ghost/blog.example.com/admin-api' }),
    backupBucket: read.string('BACKUP_BUCKET', { example: 'blog-example-com-content-backups' }),
    // Real S3 wants virtual-hosted style; stand-ins (moto, MinIO) at a custom endpoint want path style.
    s3ForcePathStyle: read.bool('AWS_S3_FORCE_PATH_STYLE', {
      default: read.raw('AWS_ENDPOINT_URL') !== undefined,
      example: 'true',
    }),
    timeMarginMs: read.int('TIME_MARGIN_MS', { default: 20_000, min: 1_000, max: 600_000, example: '20000' }),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
      example: 'info',
    }),
    metricsNamespace: read.string('METRICS_NAMESPACE', { optional: true, example: 'ghost-ha/ContentFunctions' }),
  };
}
