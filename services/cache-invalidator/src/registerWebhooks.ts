/**
 * The registration command, run by an operator or a deploy step (not imported by the service):
 *   node --conditions=source --import tsx services/cache-invalidator/src/registerWebhooks.ts
 * Reads the service's settings plus PUBLIC_URL and GHOST_ADMIN_API_KEY / GHOST_ADMIN_SECRET_ID.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, createLogger, runMain, SecretsLoader } from '@ghost-ha/core';
import { loadConfig } from './config.js';
import { registerGhostWebhooks } from './registerGhostWebhooks.js';
import { resolveAdminApiKey, resolveSecrets } from './resolveSecrets.js';

const logger = createLogger({ service: 'cache-invalidator', level: process.env.LOG_LEVEL ?? 'info' });

async function registerFromCommandLine(): Promise<number> {
  const config = loadConfig(process.env);
  if (!config.publicUrl) {
    throw new ConfigError(["'PUBLIC_URL' is required to register webhooks. E.g. PUBLIC_URL=http://127.0.0.1:3000"]);
  }
  let secrets: SecretsLoader | undefined;
  const loader = () => {
    secrets ??= new SecretsLoader({ client: new SecretsManagerClient({}) });
    return secrets;
  };
  const adminApiKey = await resolveAdminApiKey(config, loader);
  if (!adminApiKey) {
    throw new ConfigError([
      "'GHOST_ADMIN_API_KEY' or 'GHOST_ADMIN_SECRET_ID' is required to register webhooks. E.g. GHOST_ADMIN_SECRET_ID=ghost/admin-api-key",
    ]);
  }
  const resolved = await resolveSecrets(config, loader);
  await registerGhostWebhooks({
    ghostUrl: config.ghostAdminUrl,
    adminApiKey,
    targetBaseUrl: config.publicUrl,
    secret: resolved.webhookSecret,
    logger,
  });
  return 0;
}

// Nothing to stop: an interrupted registration ends at once, and running it again is harmless.
void runMain({
  name: 'register-webhooks',
  logger,
  failure: 'registering webhooks failed',
  main: registerFromCommandLine,
});
