import type { EnvReader } from '@ghost-ha/core';
import { DEFAULT_BACKUP_MAX_BYTES } from './BackupStore.js';

/** Settings every content function reads the same way. */
export interface FunctionSettings {
  /** Secrets Manager secret with `{"url": "...", "adminApiKey": "id:secret"}`. */
  readonly ghostSecretId: string;
  readonly backupBucket: string;
  /** Prepended to every backup key; ends with `/` unless empty. Restore reads only `<prefix><site>/`. */
  readonly backupPrefix: string;
  /** Secrets Manager secret with the key backups are signed (delete) and checked (restore) with. */
  readonly backupSigningSecretId: string;
  /** The most a backup may hold, stored and decompressed. */
  readonly backupMaxBytes: number;
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
    backupPrefix: normalizePrefix(read.string('BACKUP_PREFIX', { default: 'delete-all-posts/', example: 'backups/' })),
    backupSigningSecretId: read.string('BACKUP_SIGNING_SECRET_ID', { example: 'ghost-ha/backup-signing' }),
    backupMaxBytes: read.int('BACKUP_MAX_BYTES', {
      default: DEFAULT_BACKUP_MAX_BYTES,
      min: 1024,
      max: 1024 * 1024 * 1024,
      example: String(DEFAULT_BACKUP_MAX_BYTES),
    }),
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

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
