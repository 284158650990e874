// @module-tag integration
import { type ChildProcess, spawn } from 'node:child_process';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONFIG_EXIT_CODE } from '@ghost-ha/core';
import {
  freePort,
  MariaDbServer,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  makeTemporaryDirectory,
  REPO_ROOT,
  waitFor,
} from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';

const MAIN = 'services/health-sidecar/src/main.ts';

/** Runs the real entry point as ECS would, with only the given environment. */
function runMain(
  env: Record<string, string>,
  onStart: (child: ChildProcess) => void = () => {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    onStart(child);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const database = {
  database__connection__host: '127.0.0.1',
  database__connection__user: 'ghost',
  database__connection__password: 'pw',
  database__connection__database: 'ghost',
};

describe('main.ts start-up with bad configuration', () => {
  it('stops with exit code 78 (EX_CONFIG), naming each missing variable with an example', async () => {
    const { code, stderr } = await runMain({ GATE_PORT: '0' });
    expect(code).toBe(CONFIG_EXIT_CODE);
    expect(stderr).toContain('health-sidecar: Invalid configuration:');
    expect(stderr).toContain("'database__connection__host' is required. E.g. database__connection__host=");
    expect(stderr).toContain("'database__connection__password' or 'DATABASE_PASSWORD_SECRET_ID' is required");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('stops when the drain would not fit in the stop timeout, or a value is malformed', async () => {
    const { code, stderr } = await runMain({
      ...database,
      DRAIN_TIMEOUT_MS: '60000',
      STOP_TIMEOUT_MS: '30000',
      SITE_URL: 'blog.example.com',
    });
    expect(code).toBe(CONFIG_EXIT_CODE);
    expect(stderr).toContain("'DRAIN_TIMEOUT_MS' (60000) must leave 1000 ms of 'STOP_TIMEOUT_MS' (30000)");
    expect(stderr).toContain(
      "'SITE_URL' is not a URL (got 'blog.example.com'). E.g. SITE_URL=https://blog.example.com",
    );
    // The password given is not echoed anywhere.
    expect(stderr).not.toContain('pw');
  });
});

describe('main.ts on SIGTERM', () => {
  it('takes the lock (password from Secrets Manager), then on SIGTERM releases it and exits 0 within the stop timeout', async () => {
    const [mariadb, moto] = await Promise.all([MariaDbServer.start(), MotoServer.start()]);
    try {
      const settings = await mariadb.database('ghost_main');
      // An RDS-style JSON secret: the sidecar takes its `password`.
      const secrets = new SecretsManagerClient({
        endpoint: moto.endpoint,
        region: MOTO_REGION,
        credentials: MOTO_CREDENTIALS,
      });
      await secrets.send(
        new CreateSecretCommand({
          Name: 'ghost-ha/database',
          SecretString: JSON.stringify({ username: settings.user, password: settings.password }),
        }),
      );
      const healthPort = await freePort();
      let signalled = 0;
      const result = await runMain(
        {
          HEALTH_PORT: String(healthPort),
          GATE_PORT: '0',
          // Nothing listens there: Ghost counts as stopped, so the lock can go at once.
          GHOST_URL: `http://127.0.0.1:${await freePort()}`,
          CONTENT_PATH: await makeTemporaryDirectory('sidecar-content-'),
          database__connection__host: settings.host,
          database__connection__port: String(settings.port),
          database__connection__user: settings.user,
          DATABASE_PASSWORD_SECRET_ID: 'ghost-ha/database',
          ...moto.awsEnv(),
          database__connection__database: settings.database,
          CHECK_INTERVAL_MS: '500',
          CHECK_TIMEOUT_MS: '400',
          STOP_TIMEOUT_MS: '10000',
          DRAIN_TIMEOUT_MS: '2000',
          GHOST_STOP_WAIT_MS: '5000',
        },
        (child) => {
          void waitFor(
            async () => {
              const response = await fetch(`http://127.0.0.1:${healthPort}/health/startup`);
              return response.status === 200 ? true : undefined;
            },
            { what: 'the sidecar to take the lock', timeoutMs: 20_000, intervalMs: 100 },
          ).then(
            () => {
              signalled = Date.now();
              child.kill('SIGTERM');
            },
            () => child.kill('SIGKILL'),
          );
        },
      );
      expect(signalled).toBeGreaterThan(0);
      expect(result.code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      const holder = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS holder', ['ghost-ha:ghost_main'])) as {
        holder: number | null;
      }[];
      expect(holder[0]?.holder).toBeNull();
      // Ghost was seen stopped (nothing at GHOST_URL): the lease says so, the next task need not wait.
      const lease = (await mariadb.rootQuery('SELECT ghost_may_run AS mayRun FROM ghost_main.ghost_ha_lease')) as {
        mayRun: number;
      }[];
      expect(lease).toEqual([{ mayRun: 0 }]);
    } finally {
      await mariadb.destroy();
      await moto.destroy();
    }
  });
});
