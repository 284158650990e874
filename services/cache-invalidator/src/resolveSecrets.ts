import { ConfigError, SecretMalformedError, type SecretsLoader } from '@ghost-ha/core';
import type { CacheInvalidatorConfig, ResolvedConfig } from './config.js';

/**
 * Replaces Secrets Manager ids by their values; a secret is a plain string or JSON with the named key.
 * A webhook secret that resolves blank stops the start (a ConfigError: exit 78) unless unsigned
 * webhooks are allowed explicitly: a blank secret would otherwise switch verification off.
 */
export async function resolveSecrets(
  config: CacheInvalidatorConfig,
  loader: () => SecretsLoader,
): Promise<ResolvedConfig> {
  let webhookSecret = config.webhookSecretId
    ? await secretValue(loader(), config.webhookSecretId, 'webhookSecret')
    : config.webhookSecret;
  if (webhookSecret !== undefined && webhookSecret.trim() === '') webhookSecret = undefined;
  if (webhookSecret === undefined && !config.allowUnsignedWebhooks) {
    const source = config.webhookSecretId
      ? `'WEBHOOK_SECRET_ID' names the secret '${config.webhookSecretId}', whose value is blank`
      : "'WEBHOOK_SECRET' is blank";
    throw new ConfigError([
      `${source}: webhooks cannot be verified. Store the secret Ghost signs with (e.g. aws secretsmanager put-secret-value --secret-id ghost-ha/webhook --secret-string "$(openssl rand -hex 32)"), or set ALLOW_UNSIGNED_WEBHOOKS=true to accept unsigned webhooks.`,
    ]);
  }
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
