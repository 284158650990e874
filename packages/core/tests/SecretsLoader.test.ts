// @module-tag integration
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MotoServer } from '@ghost-ha/testbed';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretAccessDeniedError, SecretError, SecretMalformedError, SecretNotFoundError } from '../src/errors.js';
import { SecretsLoader } from '../src/SecretsLoader.js';

describe('SecretsLoader against moto Secrets Manager', () => {
  let moto: MotoServer;
  let restoreEnv: () => void;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    client = new SecretsManagerClient({});
    await client.send(new CreateSecretCommand({ Name: 'plain', SecretString: 'hunter2' }));
    await client.send(
      new CreateSecretCommand({ Name: 'json', SecretString: '{"url":"https://site.com","adminApiKey":"id:secret"}' }),
    );
    await client.send(new CreateSecretCommand({ Name: 'broken', SecretString: '{"url": "https://site.com", oops' }));
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  it('round-trips string and JSON secrets', async () => {
    const loader = new SecretsLoader({ client });
    expect(await loader.getString('plain')).toBe('hunter2');
    expect(await loader.getJson('json', ['url', 'adminApiKey'])).toEqual({
      url: 'https://site.com',
      adminApiKey: 'id:secret',
    });
  });

  it('caches values for the TTL, then reads again', async () => {
    let now = 0;
    const counting = new SecretsManagerClient({});
    let calls = 0;
    counting.middlewareStack.add((next) => (args) => {
      calls++;
      return next(args);
    });
    const loader = new SecretsLoader({ client: counting, ttlMs: 1_000, now: () => now });
    await Promise.all([loader.getString('plain'), loader.getString('plain')]);
    await loader.getString('plain');
    expect(calls).toBe(1);
    now = 1_001;
    await loader.getString('plain');
    expect(calls).toBe(2);
  });

  it('says clearly when a secret does not exist, and does not cache the failure', async () => {
    const loader = new SecretsLoader({ client });
    await expect(loader.getString('nope')).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(loader.getString('nope')).rejects.toThrow(/Secret 'nope' was not found/);
  });

  it('reports malformed JSON without echoing the secret', async () => {
    const loader = new SecretsLoader({ client });
    const error = await loader.getJson('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretMalformedError);
    expect(String(error)).not.toContain('oops');
    await expect(loader.getJson('json', ['password'])).rejects.toThrow(/lacks the string key\(s\) 'password'/);
  });

  it('maps AccessDeniedException (which moto does not produce) to an actionable error', async () => {
    const denied = new SecretsManagerClient({});
    const mock = mockClient(denied);
    mock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const loader = new SecretsLoader({ client: denied });
    const error = await loader.getString('plain').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretAccessDeniedError);
    expect(String(error)).toMatch(/secretsmanager:GetSecretValue/);
    mock.restore();
  });

  it('gives up on a Secrets Manager that accepts the connection and never answers, and reads again once it does', async () => {
    // In front of moto: while `hanging`, connections are accepted and what they send is swallowed
    // (a half-open path to the endpoint); otherwise bytes pass through.
    let hanging = true;
    const held: Socket[] = [];
    const target = new URL(moto.endpoint);
    const proxy: Server = createServer((socket) => {
      if (hanging) {
        held.push(socket);
        socket.resume();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    if (address === null || typeof address !== 'object') throw new Error('proxy has no port');
    const viaProxy = new SecretsManagerClient({ endpoint: `http://127.0.0.1:${address.port}`, maxAttempts: 1 });
    try {
      const loader = new SecretsLoader({ client: viaProxy, timeoutMs: 500 });
      const started = Date.now();
      const hung = await loader.getVersion('plain', 'AWSCURRENT').catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(SecretError);
      expect(String(hung)).toMatch(/did not answer within 500 ms/);
      await expect(loader.getString('plain')).rejects.toThrow(/did not answer within 500 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
      hanging = false;
      // The failure was not cached: the next read goes out and succeeds.
      expect(await loader.getString('plain')).toBe('hunter2');
      expect((await loader.getVersion('plain', 'AWSCURRENT'))?.value).toBe('hunter2');
    } finally {
      viaProxy.destroy();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
