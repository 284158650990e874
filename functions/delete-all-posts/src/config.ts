import { type FunctionSettings, readFunctionSettings } from '@ghost-ha/content';
import { type Env, EnvReader } from '@ghost-ha/core';

/** The function's settings as it uses them, read once from the environment. */
export interface DeleteAllPostsConfig extends FunctionSettings {
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
    cloudfrontDistributionId: read.string('CLOUDFRONT_DISTRIBUTION_ID', { optional: true, example: 'E2QWRUHAPOMQZL' }),
    fallbackConcurrency: read.int('FALLBACK_CONCURRENCY', { default: 4, min: 1, max: 20, example: '4' }),
  };
  read.done();
  return config;
}
