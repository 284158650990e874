import { type FunctionSettings, readFunctionSettings } from '@ghost-ha/content';
import { type Env, EnvReader } from '@ghost-ha/core';

/**
 * The function's settings as it uses them, read once from the environment: the secret of the site to
 * restore into, the only bucket backups are read from, the time margin and the log level.
 */
export type RestorePostsConfig = FunctionSettings;

/** Reads and checks every setting at once; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): RestorePostsConfig {
  const read = new EnvReader(env);
  const config = readFunctionSettings(read);
  read.done();
  return config;
}
