import { SecretMalformedError, type SecretsLoader } from '@ghost-ha/core';
import type { CacheInvalidatorConfig, ResolvedConfig } from './config.js';

/** Replaces Secrets Manager ids by their values; a secret is a plain string or JSON with the named key. */
export async function resolveSecrets(
  config: CacheInvalidatorConfig,
  loader: () => SecretsLoader,
): Promise<ResolvedConfig> {
  const webhookSecret = config.webhookSecretId
    ? await secretValue(loader(), config.webhookSecretId, 'webhookSecret')
    : config.webhookSecret;
  const manualToken = config.manualTokenSecretId
    ? await secretValue(loader(), config.manualTokenSecretId, 'token')
    : config.manualToken;
  const ghostAdminApiKey = await resolveAdminApiKey(config, loader);
  return { ...config, webhookSecret, manualToken, ghostAdminApiKey };
}

/** The Admin API key (registering webhooks, the mirror's copy of Ghost's redirects), from GHOST_ADMIN_API_KEY or GHOST_ADMIN_SECRET_ID. */
export async function resolveAdminApiKey(
  config: CacheInvalidatorConfig,
  loader: () => SecretsLoader,
): Promise<string | undefined> {
  if (config.ghostAdminSecretId) return secretValue(loader(), config.ghostAdminSecretId, 'adminApiKey');
  return config.ghostAdminApiKey;
}

async function secretValue(loader: SecretsLoader, secretId: string, jsonKey: string): Promise<string> {
  const text = (await loader.getString(secretId)).trim();
  if (!text.startsWith('{')) return text;
  const record = await loader.getJson(secretId, [jsonKey]);
  const value = record[jsonKey as keyof typeof record];
  if (!value) throw new SecretMalformedError(secretId, `it lacks the string key '${jsonKey}'`);
  return value;
}
