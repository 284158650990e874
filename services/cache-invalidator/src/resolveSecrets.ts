import { ConfigError, SecretMalformedError, type SecretsLoader } from '@ghost-ha/core';
import type { CacheInvalidatorConfig, ResolvedConfig } from './config.js';
import type { WebhookSecretVersions } from './WebhookSecrets.js';

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

/**
 * Both versions of the webhook secret, read afresh for WebhookSecrets' reload: `AWSCURRENT`, and
 * `AWSPREVIOUS` (absent until the first rotation).
 */
export async function readWebhookSecretVersions(
  loader: SecretsLoader,
  secretId: string,
): Promise<WebhookSecretVersions> {
  const [current, previous] = await Promise.all([
    loader.getVersion(secretId, 'AWSCURRENT'),
    loader.getVersion(secretId, 'AWSPREVIOUS'),
  ]);
  if (!current) throw new SecretMalformedError(secretId, 'it has no AWSCURRENT version');
  return {
    current: parseSecret(secretId, current.value, 'webhookSecret'),
    previous: previous ? parseSecret(secretId, previous.value, 'webhookSecret') : undefined,
    currentCreatedAt: current.createdAt,
  };
}

async function secretValue(loader: SecretsLoader, secretId: string, jsonKey: string): Promise<string> {
  return parseSecret(secretId, await loader.getString(secretId), jsonKey);
}

/** A plain string, or JSON with the named string key. */
function parseSecret(secretId: string, raw: string, jsonKey: string): string {
  const text = raw.trim();
  if (!text.startsWith('{')) return text;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which is the secret: say only what is wrong.
    throw new SecretMalformedError(secretId, 'it starts with { but is not valid JSON');
  }
  const value = (record as Record<string, unknown> | null)?.[jsonKey];
  if (typeof value !== 'string' || value === '') {
    throw new SecretMalformedError(secretId, `it lacks the string key '${jsonKey}'`);
  }
  return value;
}
