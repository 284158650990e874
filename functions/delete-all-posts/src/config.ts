import { type FunctionSettings, readFunctionSettings } from '@ghost-ha/content';
import { type Env, EnvReader } from '@ghost-ha/core';

/** The function's settings as it uses them, read once from the environment. */
export interface DeleteAllPostsConfig extends FunctionSettings {
  /** Prepended to every backup key; ends with `/` unless empty. */
  readonly backupPrefix: string;
  /** When set, the function purges `/*` itself instead of relying on the cache-invalidator's webhook. */
  readonly cloudfrontDistributionId: string | undefined;
  /** Parallel single deletes when Ghost has no bulk delete. */
  readonly fallbackConcurrency: number;
}

/** Reads and checks every setting at once; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): DeleteAllPostsConfig {
  const read = new EnvReader(env);
  const config: DeleteAllPostsConfig = {
    ...readFunctionSettings(read),
    backupPrefix: normalizePrefix(read.string('BACKUP_PREFIX', { default: 'delete-all-posts/', example: 'backups/' })),
    cloudfrontDistributionId: read.string('CLOUDFRONT_DISTRIBUTION_ID', { optional: true, example: 'E2QWRUHAPOMQZL' }),
    fallbackConcurrency: read.int('FALLBACK_CONCURRENCY', { default: 4, min: 1, max: 20, example: '4' }),
  };
  read.done();
  return config;
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
