import { type Env, EnvReader } from '@ghost-ha/core';
import { readForcePathStyle } from '@ghost-ha/delete-all-posts';

/** The function's settings as it uses them, read once from the environment. */
export interface RestorePostsConfig {
  /** Secrets Manager secret with `{"url": "...", "adminApiKey": "id:secret"}` of the site to restore into. */
  readonly ghostSecretId: string;
  /** The only bucket backups are read from. */
  readonly backupBucket: string;
  readonly s3ForcePathStyle: boolean;
  /** Stop starting new posts when less than this much of the invocation's time is left. */
  readonly timeMarginMs: number;
  readonly logLevel: string;
}

/** Reads and checks every setting at once; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): RestorePostsConfig {
  const read = new EnvReader(env);
  const config: RestorePostsConfig = {
    ghostSecretId: read.string('GHOST_SECRET_ID', { example: 'ghost/blog.example.com/admin-api' }),
    backupBucket: read.string('BACKUP_BUCKET', { example: 'blog-example-com-content-backups' }),
    s3ForcePathStyle: readForcePathStyle(read),
    timeMarginMs: read.int('TIME_MARGIN_MS', { default: 20_000, min: 1_000, max: 600_000, example: '20000' }),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
      example: 'info',
    }),
  };
  read.done();
  return config;
}
