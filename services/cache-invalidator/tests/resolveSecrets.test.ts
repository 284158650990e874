// @module-tag integration
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, SecretMalformedError, SecretNotFoundError, SecretsLoader } from '@ghost-ha/core';
import { MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { readWebhookSecretVersions, resolveAdminApiKey, resolveSecrets } from '../src/resolveSecrets.js';

describe('resolveSecrets (Secrets Manager in moto)', () => {
  let moto: MotoServer;
  let restoreEnv: () => void;
  let loader: SecretsLoader;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    const client = new SecretsManagerClient({});
    loader = new SecretsLoader({ client });
    await client.send(new CreateSecretCommand({ Name: 'plain-webhook', SecretString: 'plain-secret' }));
    await client.send(
      new CreateSecretCommand({ Name: 'json-webhook', SecretString: '{"webhookSecret":"json-secret"}' }),
    );
    await client.send(new CreateSecretCommand({ Name: 'manual-token', SecretString: '{"token":"bearer-token"}' }));
    await client.send(new CreateSecretCommand({ Name: 'admin-key', SecretString: '{"adminApiKey":"id:secret"}' }));
    await client.send(new CreateSecretCommand({ Name: 'wrong-shape', SecretString: '{"password":"x"}' }));
    await client.send(new CreateSecretCommand({ Name: 'blank-webhook', SecretString: '   ' }));
    await client.send(new CreateSecretCommand({ Name: 'blank-json-webhook', SecretString: '{"webhookSecret":" "}' }));
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  const base = { SITE_URL: 'https://example.com', CLOUDFRONT_DISTRIBUTION_IDS: 'E1' };

  it('reads a plain or JSON webhook secret, the manual token and the admin key by id', async () => {
    const plain = await resolveSecrets(loadConfig({ ...base, WEBHOOK_SECRET_ID: 'plain-webhook' }), () => loader);
    expect(plain.webhookSecret).toBe('plain-secret');
    const config = loadConfig({
      ...base,
      WEBHOOK_SECRET_ID: 'json-webhook',
      MANUAL_INVALIDATION_TOKEN_SECRET_ID: 'manual-token',
      GHOST_ADMIN_SECRET_ID: 'admin-key',
    });
    expect(await resolveSecrets(config, () => loader)).toMatchObject({
      webhookSecret: 'json-secret',
      manualToken: 'bearer-token',
    });
    expect(await resolveAdminApiKey(config, () => loader)).toBe('id:secret');
  });

  it('fails at start with the secret id when it is missing or lacks the key', async () => {
    await expect(
      resolveSecrets(loadConfig({ ...base, WEBHOOK_SECRET_ID: 'no-such-secret' }), () => loader),
    ).rejects.toBeInstanceOf(SecretNotFoundError);
    const error = await resolveSecrets(loadConfig({ ...base, WEBHOOK_SECRET_ID: 'wrong-shape' }), () => loader).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretMalformedError);
    expect(String((error as Error).message)).toContain('webhookSecret');
  });

  it('refuses a webhook secret that resolves blank, naming the variable, unless unsigned webhooks are allowed', async () => {
    for (const secretId of ['blank-webhook', 'blank-json-webhook']) {
      const error = await resolveSecrets(loadConfig({ ...base, WEBHOOK_SECRET_ID: secretId }), () => loader).catch(
        (e: unknown) => e,
      );
      expect(error, secretId).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toContain(`'WEBHOOK_SECRET_ID' names the secret '${secretId}'`);
      expect(String((error as Error).message)).toContain('ALLOW_UNSIGNED_WEBHOOKS=true');
    }
    const allowed = await resolveSecrets(
      loadConfig({ ...base, WEBHOOK_SECRET_ID: 'blank-webhook', ALLOW_UNSIGNED_WEBHOOKS: 'true' }),
      () => loader,
    );
    expect(allowed.webhookSecret).toBeUndefined();
  });

  it('reads AWSCURRENT and, once rotated, AWSPREVIOUS afresh for the reload', async () => {
    const client = new SecretsManagerClient({});
    await client.send(new CreateSecretCommand({ Name: 'rotating-webhook', SecretString: '{"webhookSecret":"one"}' }));
    const first = await readWebhookSecretVersions(loader, 'rotating-webhook');
    expect(first).toMatchObject({ current: 'one', previous: undefined });
    expect(first.currentCreatedAt).toBeGreaterThan(Date.now() - 600_000);
    await client.send(
      new PutSecretValueCommand({ SecretId: 'rotating-webhook', SecretString: '{"webhookSecret":"two"}' }),
    );
    expect(await readWebhookSecretVersions(loader, 'rotating-webhook')).toMatchObject({
      current: 'two',
      previous: 'one',
    });
    await expect(readWebhookSecretVersions(loader, 'no-such-secret')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('uses the values given directly without asking Secrets Manager', async () => {
    const resolved = await resolveSecrets(loadConfig({ ...base, WEBHOOK_SECRET: 'direct' }), () => {
      throw new Error('Secrets Manager must not be asked');
    });
    expect(resolved.webhookSecret).toBe('direct');
  });
});
