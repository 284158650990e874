// @module-tag ghost
// The database password rotated under a running task, with the alternating-users strategy the
// deployment uses (health-sidecar README, "Rotating the database password"): a real Ghost on a real
// MariaDB, the sidecar's real entry point with the task definition's database settings, and the
// secret in Secrets Manager (moto). Each rotation is done as Secrets Manager's MySQL multi-user
// rotation function does it: the other user's password is set, then the secret's AWSCURRENT names
// that user and password.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { defaultLockName } from '@ghost-ha/core';
import {
  type DatabaseSettings,
  type GhostServer,
  loadTaskDefinition,
  type MariaDbServer,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  waitFor,
} from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIDECAR_LOG } from '../src/signals.js';
import { SidecarProcess } from './faultHelpers.js';
import { type ContentVolume, GhostTask, get, sidecarEnv } from './sidecarFixture.js';

const run = promisify(execFile);
const DATABASE = 'ghost_rotation';
const LOCK_NAME = defaultLockName(DATABASE);
/** The other user of the alternating pair (Secrets Manager's function names it `<user>_clone`). */
const CLONE = 'ghost_clone';
const FIRST_PASSWORD = 'rotatedClonePassword1';
const SECOND_PASSWORD = 'rotatedGhostPassword2';
const THIRD_PASSWORD = 'rotatedGhostPassword3';

/** The sidecar container's settings as the app template defines them (secrets by name, not ARN). */
function templateSidecar() {
  const definition = loadTaskDefinition({
    region: MOTO_REGION,
    parameters: {
      ProjectName: 'ghost-ha',
      DataStackName: 'ghost-ha-data',
      SiteUrl: 'https://blog.example.com',
      GhostImage: 'ghost:test',
      HealthSidecarImage: 'sidecar:test',
      CacheInvalidatorImage: 'invalidator:test',
      DatabaseTls: 'off',
    },
    imports: {
      'ghost-ha-data-ClusterEndpoint': '127.0.0.1',
      'ghost-ha-data-FileSystemId': 'fs-local',
      'ghost-ha-data-ContentAccessPointId': 'fsap-content',
      'ghost-ha-data-JournalAccessPointId': 'fsap-journal',
    },
  });
  const sidecar = definition.containers.find((container) => container.name === 'health-sidecar');
  const ghost = definition.containers.find((container) => container.name === 'ghost');
  if (!sidecar || !ghost) throw new Error('the task definition lacks the ghost or health-sidecar container');
  return { sidecar, ghost };
}

describe('database password rotated under a running task (MariaDB, real Ghost)', () => {
  let task: GhostTask;
  let mariadb: MariaDbServer;
  let database: DatabaseSettings;
  let ghost: GhostServer;
  let content: ContentVolume;
  let moto: MotoServer;
  let secrets: SecretsManagerClient;
  let sidecar: SidecarProcess | undefined;
  let secretId = '';

  beforeAll(async () => {
    [task, moto] = await Promise.all([GhostTask.start(DATABASE), MotoServer.start()]);
    ({ mariadb, database, ghost, content } = task);
    secrets = new SecretsManagerClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  }, 300_000);

  afterAll(async () => {
    await sidecar?.stop();
    await task?.destroy();
    await moto?.destroy();
  });

  /** The lock's session as the server sees it, and the lease's epoch and recorded lock session. */
  async function lockState(): Promise<{ lockConnection: number; epoch: number; leaseConnection: number }> {
    const [used] = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [LOCK_NAME])) as { id: number | null }[];
    const [lease] = (await mariadb.rootQuery(
      `SELECT epoch, lock_connection AS lockConnection FROM \`${DATABASE}\`.ghost_ha_lease WHERE name = ?`,
      [LOCK_NAME],
    )) as { epoch: number | string; lockConnection: number | string }[];
    return {
      lockConnection: Number(used?.id),
      epoch: Number(lease?.epoch),
      leaseConnection: Number(lease?.lockConnection),
    };
  }

  /** The server's session ids of `pid`'s connections to MariaDB (client ports matched with `ss`). */
  async function sessionsOf(pid: number): Promise<number[]> {
    const { stdout } = await run('ss', ['-tnpH', 'state', 'established']);
    const ports = stdout
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`) && line.includes(`:${mariadb.port} `))
      .map((line) => line.trim().split(/\s+/)[2]?.split(':').pop())
      .filter((port): port is string => port !== undefined);
    if (ports.length === 0) return [];
    const rows = (await mariadb.rootQuery(
      'SELECT ID AS id, HOST AS host FROM information_schema.PROCESSLIST WHERE USER IS NOT NULL',
    )) as { id: number | string; host: string }[];
    return rows.filter((row) => ports.includes(row.host.split(':').pop() ?? '')).map((row) => Number(row.id));
  }

  async function setPassword(user: string, password: string): Promise<void> {
    for (const host of ['%', 'localhost'])
      await mariadb.rootQuery(`ALTER USER '${user}'@'${host}' IDENTIFIED BY ?`, [password]);
  }

  /** Ghost answers the Admin API (a database read) and its home page. */
  async function ghostServes(): Promise<void> {
    expect(await ghost.admin.count('posts')).toBeGreaterThanOrEqual(0);
    const page = await fetch(`${ghost.url}/`);
    expect(page.status).toBe(200);
    await page.text();
  }

  /** `/health` passes on rounds run after `since` (every check's time), within `timeoutMs`. */
  async function healthPasses(port: number, timeoutMs: number, since = 0): Promise<void> {
    await waitFor(
      async () => {
        const { status, body } = await get(port, '/health');
        const times = Object.values(body.checks as Record<string, { time: string }[]>).flatMap((entries) =>
          entries.map((entry) => Date.parse(entry.time)),
        );
        return status === 200 && body.status === 'pass' && times.every((time) => time >= since) ? true : undefined;
      },
      {
        what: "the sidecar's /health to pass",
        timeoutMs,
        intervalMs: 200,
        abortIf: () => (sidecar?.running === false ? `the sidecar exited:\n${sidecar.output.slice(-2000)}` : undefined),
      },
    ).catch(async (error: unknown) => {
      const { body } = await get(port, '/health');
      throw new Error(`${String(error)}\nlast /health: ${JSON.stringify(body.checks)}`);
    });
  }

  /** Waits until the sidecar holds at least two sessions besides the lock's and those killed. */
  async function newSessions(lockSession: number, killed: number[]): Promise<void> {
    const pid = sidecar?.child.pid ?? 0;
    await waitFor(
      async () => {
        const reopened = (await sessionsOf(pid)).filter((id) => id !== lockSession && !killed.includes(id));
        return reopened.length >= 2 ? reopened : undefined;
      },
      {
        what: 'the sidecar to open new database connections',
        timeoutMs: 20_000,
        intervalMs: 200,
        abortIf: () => (sidecar?.running === false ? `the sidecar exited:\n${sidecar.output.slice(-2000)}` : undefined),
      },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nsidecar output:\n${sidecar?.output.slice(-3000)}`);
    });
  }

  it('the sidecar keeps the lock, Ghost keeps serving, the next reconnect uses the new password', async () => {
    const template = templateSidecar();
    // Ghost and the sidecar are both given the app user's login from one secret at task start.
    const injected = (container: typeof template.sidecar) =>
      Object.fromEntries(container.secrets.map((secret) => [secret.name, secret.valueFrom.split(':secret:')[1]]));
    expect(injected(template.ghost)).toMatchObject(injected(template.sidecar));
    expect(injected(template.sidecar).database__connection__password).toBe('ghost-ha/database-app:password::');
    // Where the sidecar reads the login again after a refusal: the same secret, from the template.
    secretId = template.sidecar.environment.DATABASE_PASSWORD_SECRET_ID ?? '';
    const secretName = secretId || 'ghost-ha/database-app';
    await secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        SecretString: JSON.stringify({ username: database.user, password: database.password }),
      }),
    );
    const putSecret = (username: string, password: string) =>
      secrets.send(
        new PutSecretValueCommand({ SecretId: secretName, SecretString: JSON.stringify({ username, password }) }),
      );
    // The alternating pair as scripts/create-app-db-user.sh leaves it: the clone has the same grants.
    for (const host of ['%', 'localhost']) {
      await mariadb.rootQuery(`CREATE USER '${CLONE}'@'${host}' IDENTIFIED BY 'clone-not-yet-used'`);
      await mariadb.rootQuery(`GRANT ALL PRIVILEGES ON \`${DATABASE}\`.* TO '${CLONE}'@'${host}'`);
    }

    const env = sidecarEnv(ghost, database, content.path, {
      ...moto.awsEnv(),
      ...(secretId ? { DATABASE_PASSWORD_SECRET_ID: secretId } : {}),
      DATABASE_SECRET_REREAD_MS: '2000',
      LOG_LEVEL: 'info',
    });
    sidecar = await SidecarProcess.start(env);
    const running = sidecar;
    await running.waitUntilHolding(30_000);
    await healthPasses(running.healthPort, 20_000);
    await ghostServes();
    const before = await lockState();
    expect(before.lockConnection).toBeGreaterThan(0);
    expect(before.leaseConnection).toBe(before.lockConnection);
    const sidecarPid = running.child.pid ?? 0;

    // The lock must never be let go: /health/startup (the ECS health check) sampled all along.
    let startupFailures = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if ((await get(running.healthPort, '/health/startup').catch(() => ({ status: 0 }))).status !== 200)
          startupFailures++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    try {
      // Rotation 1: the clone gets a new password and becomes current. The login both containers
      // were given stays valid, so every connection, Ghost's new ones included, still works.
      await setPassword(CLONE, FIRST_PASSWORD);
      await putSecret(CLONE, FIRST_PASSWORD);
      const lockSession = before.lockConnection;
      const others = (await mariadb.rootQuery(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> ?',
        [database.user, lockSession],
      )) as { id: number | string }[];
      expect(others.length).toBeGreaterThan(2);
      // Every connection of the app user but the lock's (Ghost's pool, the sidecar's checks and lease).
      for (const { id } of others) await mariadb.rootQuery(`KILL ${Number(id)}`).catch(() => undefined);
      const killedAt = Date.now();
      await waitFor(
        async () =>
          (await ghostServes().then(
            () => true,
            () => false,
          ))
            ? true
            : undefined,
        {
          what: 'Ghost to serve on new connections after rotation 1',
          timeoutMs: 30_000,
          intervalMs: 500,
        },
      );
      await newSessions(
        lockSession,
        others.map(({ id }) => Number(id)),
      );
      await healthPasses(running.healthPort, 20_000, killedAt);
      expect(await lockState()).toEqual(before);

      // Rotation 2: the user both containers were given gets a new password and is current again.
      // Ghost keeps its open connections (the server checks a password at connect only) and serves.
      await setPassword(database.user, SECOND_PASSWORD);
      await putSecret(database.user, SECOND_PASSWORD);
      for (let i = 0; i < 5; i++) await ghostServes();
      expect(await lockState()).toEqual(before);
      // The injected password is refused now: only the new one can open a connection.
      await expect(
        mysql.createConnection({ ...database, password: database.password, ssl: undefined }),
      ).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });

      // Force the sidecar's next connections: kill its sessions other than the lock's.
      const sidecarSessions = await sessionsOf(sidecarPid);
      expect(sidecarSessions).toContain(lockSession);
      const toKill = sidecarSessions.filter((id) => id !== lockSession);
      expect(toKill.length).toBeGreaterThanOrEqual(2);
      for (const id of toKill) await mariadb.rootQuery(`KILL ${id}`).catch(() => undefined);
      const reopenedAt = Date.now();
      // Its new sessions, on the new password (the old one is refused), beside the same lock session.
      await newSessions(lockSession, toKill);
      const sessionsMs = Date.now() - reopenedAt;
      await healthPasses(running.healthPort, 20_000, reopenedAt);
      // biome-ignore lint/suspicious/noConsole: how fast the sidecar followed is this test's figure.
      console.log(
        `after rotation 2: new sidecar sessions ${sessionsMs} ms, /health pass again ${Date.now() - reopenedAt} ms after the kill`,
      );
      expect(running.output).toContain(SIDECAR_LOG.databaseLoginReread);
      expect(await lockState()).toEqual(before);
      await ghostServes();

      // Fail closed: the password changes again while the secret cannot be read (deleted here). The
      // sidecar's new connections are refused; it keeps what is open, the lock included, and warns.
      await secrets.send(new DeleteSecretCommand({ SecretId: secretName, ForceDeleteWithoutRecovery: true }));
      await setPassword(database.user, THIRD_PASSWORD);
      const unreadableAt = Date.now();
      const current = (await sessionsOf(sidecarPid)).filter((id) => id !== lockSession);
      for (const id of current) await mariadb.rootQuery(`KILL ${id}`).catch(() => undefined);
      const warned = await waitFor(
        async () => {
          const entry = (await get(running.healthPort, '/health')).body.checks as Record<
            string,
            { status: string; output?: string; time: string }[]
          >;
          const check = entry['database:responseTime']?.[0];
          // First the killed connection, then the refusal within the reread interval, then the failed read.
          return check && Date.parse(check.time) >= unreadableAt && check.output?.includes('could not be read')
            ? check
            : undefined;
        },
        { what: 'database:responseTime to report the refused login', timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(warned.status).toBe('warn');
      expect(warned.output).toContain("the server refused user 'ghost'");
      expect(warned.output).toContain('could not be read');
      expect(running.output).toContain(SIDECAR_LOG.databaseSecretUnreadable);
      expect(await lockState()).toEqual(before);
      await ghostServes();
      // Readable again (as the rotation left it): the next read, at most DATABASE_SECRET_REREAD_MS on, follows.
      await secrets.send(
        new CreateSecretCommand({
          Name: secretName,
          SecretString: JSON.stringify({ username: database.user, password: THIRD_PASSWORD }),
        }),
      );
      await healthPasses(running.healthPort, 20_000, Date.now());
      expect(await lockState()).toEqual(before);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(startupFailures).toBe(0);
    expect(running.output).not.toContain(SIDECAR_LOG.lockLost);
  }, 240_000);
});
