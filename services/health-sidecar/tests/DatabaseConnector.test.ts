// @module-tag integration
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsLoader } from '@ghost-ha/core';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseCredentials, type DatabaseLogin, loginFromSecret } from '../src/DatabaseCredentials.js';
import { DatabasePasswordError } from '../src/errors.js';
import { testLogger } from './sidecarFixture.js';

describe('loginFromSecret', () => {
  it('takes a plain secret as the password, and `password` (and `username`, if any) from a JSON one', () => {
    expect(loginFromSecret('db', 's3cr3t {not json', 'ghost')).toEqual({ user: 'ghost', password: 's3cr3t {not json' });
    expect(loginFromSecret('db', '{"username":"ghost_clone","password":"s3cr3t"}', 'ghost')).toEqual({
      user: 'ghost_clone',
      password: 's3cr3t',
    });
    expect(loginFromSecret('db', '{"password":"s3cr3t"}', 'ghost')).toEqual({ user: 'ghost', password: 's3cr3t' });
  });

  it('says what is wrong with a JSON secret without quoting it', () => {
    const broken = () => loginFromSecret('db', '{"password": s3cr3t', 'ghost');
    expect(broken).toThrow(DatabasePasswordError);
    expect(broken).toThrow("Secret 'db' starts like JSON but is not valid JSON");
    expect(broken).not.toThrow(/s3cr3t/);
    expect(() => loginFromSecret('db', '{"username":"ghost"}', 'ghost')).toThrow(
      "JSON without a string 'password' key",
    );
    expect(() => loginFromSecret('db', '{"username":"","password":"s3cr3t"}', 'ghost')).toThrow(
      "has a 'username' that is not a non-empty string",
    );
  });
});

describe('DatabaseCredentials against Secrets Manager (moto)', () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;
  const injected: DatabaseLogin = { user: 'ghost', password: 'injected' };

  beforeAll(async () => {
    moto = await MotoServer.start();
    client = new SecretsManagerClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  });
  afterAll(async () => {
    await moto?.destroy();
  });

  /** A secret of its own per test, and credentials on a clock the test moves. */
  async function setUp(name: string, value: string | undefined, intervalMs = 30_000) {
    if (value !== undefined) await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    const clock = { now: 1_000_000 };
    const credentials = new DatabaseCredentials({
      injected,
      user: 'ghost',
      secretId: name,
      secrets: new SecretsLoader({ client }),
      rereadIntervalMs: intervalMs,
      timeoutMs: 5_000,
      now: () => clock.now,
      logger: testLogger,
    });
    const put = (secret: string) => client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
    return { credentials, clock, put };
  }

  it('uses the injected login first, and the secret (user and password) after the server refused it', async () => {
    const { credentials } = await setUp('db/a', JSON.stringify({ username: 'ghost_clone', password: 'rotated' }));
    expect(await credentials.current()).toEqual(injected);
    expect(await credentials.afterRefusal(injected)).toEqual({ user: 'ghost_clone', password: 'rotated' });
    expect(await credentials.current()).toEqual({ user: 'ghost_clone', password: 'rotated' });
    // A connection refused with the injected login meanwhile moves on without another read.
    expect(await credentials.afterRefusal(injected)).toEqual({ user: 'ghost_clone', password: 'rotated' });
  });

  it('reads the secret at most once per interval: a refusal in between is an error naming the wait', async () => {
    const { credentials, clock, put } = await setUp(
      'db/b',
      JSON.stringify({ username: 'ghost', password: 'injected' }),
    );
    await expect(credentials.afterRefusal(injected)).rejects.toThrow(
      "the server refused user 'ghost' (ER_ACCESS_DENIED_ERROR: the password rotated?) and the secret 'db/b' holds that same login",
    );
    await put(JSON.stringify({ username: 'ghost', password: 'new' }));
    clock.now += 29_000;
    // Rotated meanwhile, but not read again yet: refused as before.
    await expect(credentials.afterRefusal(injected)).rejects.toThrow(DatabasePasswordError);
    clock.now += 1_000;
    expect(await credentials.afterRefusal(injected)).toEqual({ user: 'ghost', password: 'new' });
  });

  it('fails closed when the secret cannot be read: the last login stays, the error says why', async () => {
    const { credentials, clock } = await setUp('db/missing', undefined, 1_000);
    const refused = credentials.afterRefusal(injected);
    await expect(refused).rejects.toThrow(DatabasePasswordError);
    await expect(refused).rejects.toThrow(/the database secret 'db\/missing' could not be read/);
    expect(await credentials.current()).toEqual(injected);
    clock.now += 1_000;
    await expect(credentials.afterRefusal(injected)).rejects.toThrow(/could not be read/);
  });

  it('shares one read between connections refused at the same time', async () => {
    const { credentials } = await setUp('db/c', JSON.stringify({ password: 'rotated' }));
    const answers = await Promise.all([1, 2, 3].map(() => credentials.afterRefusal(injected)));
    expect(answers).toEqual([1, 2, 3].map(() => ({ user: 'ghost', password: 'rotated' })));
  });
});
