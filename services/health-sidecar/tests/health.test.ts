// @module-tag ghost
import { type DatabaseSettings, type GhostServer, type MariaDbServer, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../src/Sidecar.js';
import {
  type ContentVolume,
  GhostTask,
  get,
  INTERVAL_MS,
  sidecarEnv,
  startSidecar,
  TIMEOUT_MS,
} from './sidecarFixture.js';

type Checks = Record<string, { status: string; output?: string; componentType: string; time: string }[]>;

/** One round plus its timeout, and a little for the test's own polling. */
const ONE_ROUND = INTERVAL_MS + TIMEOUT_MS + 300;

describe('health-sidecar against a real Ghost on a real MariaDB', () => {
  let task: GhostTask;
  let mariadb: MariaDbServer;
  let database: DatabaseSettings;
  let ghost: GhostServer;
  let content: ContentVolume;
  let sidecar: Sidecar;

  const checkStatus = async (key: string) => {
    const { body } = await get(sidecar.healthPort, '/health');
    return (body.checks as Checks)[key]?.[0];
  };
  /** Polls until `/health/ready` answers `status`; resolves with how long that took. */
  const readyBecomes = async (status: number, timeoutMs: number, port = sidecar.healthPort): Promise<number> => {
    const started = Date.now();
    await waitFor(async () => ((await get(port, '/health/ready')).status === status ? true : undefined), {
      what: `/health/ready to answer ${status}`,
      timeoutMs,
      intervalMs: 50,
    });
    return Date.now() - started;
  };

  beforeAll(async () => {
    task = await GhostTask.start('ghost_health');
    ({ mariadb, database, ghost, content } = task);
    sidecar = await startSidecar(sidecarEnv(ghost, database, content.path));
    await readyBecomes(200, 10_000);
  });

  afterAll(async () => {
    await sidecar?.close();
    await task?.destroy();
  });

  it('passes when Ghost, the database, the content volume and the lock are fine, as application/health+json', async () => {
    const full = await get(sidecar.healthPort, '/health');
    expect(full.status).toBe(200);
    expect(full.contentType).toBe('application/health+json');
    expect(full.body.status).toBe('pass');
    const checks = full.body.checks as Checks;
    expect(Object.keys(checks).sort()).toEqual([
      'contentVolume:freeSpace',
      'contentVolume:responseTime',
      'database:responseTime',
      'database:writeTime',
      'ghost:responseTime',
      'singletonLock:held',
    ]);
    for (const [entry] of Object.values(checks)) {
      expect(entry).toMatchObject({ status: 'pass', componentType: expect.any(String) });
      expect(Date.parse(entry?.time ?? '')).toBeGreaterThan(Date.now() - 5_000);
    }
    expect(checks['ghost:responseTime']?.[0]).toMatchObject({ observedUnit: 'ms', observedValue: expect.any(Number) });
    expect((await get(sidecar.healthPort, '/health/ready')).body).toEqual({ status: 'pass' });
    expect((await get(sidecar.healthPort, '/health/live')).status).toBe(200);
    expect((await get(sidecar.healthPort, '/health/startup')).status).toBe(200);

    const metrics = await (await fetch(`http://127.0.0.1:${sidecar.healthPort}/metrics`)).text();
    expect(metrics).toContain('ghost_ha_health_status{status="pass"} 1');
    expect(metrics).toContain('ghost_ha_singleton_lock_held 1');
    expect(metrics).toContain('ghost_ha_health_check_status{check="ghost:responseTime",status="pass"} 1');
    expect(metrics).toMatch(/ghost_ha_health_check_duration_seconds_count\{check="database:responseTime"\} \d+/);
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('fails within one interval plus timeout of Ghost stopping, and passes again once Ghost is back', async () => {
    await ghost.stop();
    const tookMs = await readyBecomes(503, ONE_ROUND * 2);
    expect(tookMs).toBeLessThanOrEqual(ONE_ROUND);
    expect(await checkStatus('ghost:responseTime')).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/ECONNREFUSED/),
    });
    expect((await get(sidecar.healthPort, '/health/ready')).body.output).toMatch(/^ghost:responseTime: /);
    // The lock is still ours: only readiness fails, the startup check does not.
    expect((await get(sidecar.healthPort, '/health/startup')).status).toBe(200);

    // A sidecar whose Ghost has not come up yet, within its startup grace: "starting", not failing.
    const booting = await startSidecar(
      sidecarEnv(ghost, database, content.path, { LOCK_NAME: 'ghost-ha:grace-test', STARTUP_GRACE_MS: '60000' }),
    );
    try {
      await waitFor(async () => (booting.lock.held ? true : undefined), { what: 'lock', timeoutMs: 5_000 });
      await booting.monitor.runRound();
      const { status, body } = await get(booting.healthPort, '/health');
      expect(status).toBe(200);
      expect((body.checks as Checks)['ghost:responseTime']?.[0]).toMatchObject({
        status: 'warn',
        observedValue: 'starting',
        output: 'Ghost is not listening yet',
      });
    } finally {
      await booting.close();
    }

    await ghost.start();
    await readyBecomes(200, ONE_ROUND * 2);
  });

  it('fails while the database is read-only (a standby), and passes once it is writable again', async () => {
    await mariadb.setReadOnly(true);
    try {
      expect(await readyBecomes(503, ONE_ROUND * 2)).toBeLessThanOrEqual(ONE_ROUND);
      expect(await checkStatus('database:responseTime')).toMatchObject({
        status: 'fail',
        output: expect.stringMatching(/read-only/),
      });
    } finally {
      await mariadb.setReadOnly(false);
    }
    await readyBecomes(200, ONE_ROUND * 2);
  });

  it('fails while the content volume is read-only, and passes once it is writable again', async () => {
    await content.setReadOnly(true);
    try {
      expect(await readyBecomes(503, ONE_ROUND * 2)).toBeLessThanOrEqual(ONE_ROUND);
      expect(await checkStatus('contentVolume:responseTime')).toMatchObject({
        status: 'fail',
        output: `content path ${content.path} is on a read-only file system`,
      });
    } finally {
      await content.setReadOnly(false);
    }
    await readyBecomes(200, ONE_ROUND * 2);
  });

  it('warns (and stays ready) when the content volume has less free space than the threshold', async () => {
    // Its own lock name: this one is not competing with the main sidecar.
    const roomy = await startSidecar(
      sidecarEnv(ghost, database, content.path, { DISK_FREE_WARN_MB: '100000', LOCK_NAME: 'ghost-ha:disk-test' }),
    );
    try {
      await readyBecomes(200, 10_000, roomy.healthPort);
      const { body } = await get(roomy.healthPort, '/health');
      expect(body.status).toBe('warn');
      expect((body.checks as Checks)['contentVolume:freeSpace']?.[0]).toMatchObject({
        status: 'warn',
        output: 'less than 100000 MiB free on the content volume',
      });
    } finally {
      await roomy.close();
    }
  });

  it('lets exactly one of two sidecars on one database pass; the other takes over once the lease of the first expires', async () => {
    // A lock of their own with a short lease, so the main sidecar keeps its lock for the other tests.
    const shortLease = { LOCK_NAME: 'ghost-ha:takeover-test', LEASE_TTL_MS: '3000', GHOST_STOP_TIMEOUT_MS: '500' };
    const first = await startSidecar(sidecarEnv(ghost, database, content.path, shortLease));
    let second: Sidecar | undefined;
    try {
      // The second starts once the first holds the lock: which one wins a simultaneous start is a race.
      await waitFor(async () => (first.lock.held ? true : undefined), { what: 'the lock', timeoutMs: 10_000 });
      second = await startSidecar(sidecarEnv(ghost, database, content.path, shortLease));
      const standbySidecar = second;
      // Give the second several rounds to (wrongly) pass.
      await new Promise((resolve) => setTimeout(resolve, ONE_ROUND * 3));
      expect((await get(first.healthPort, '/health/startup')).status).toBe(200);
      expect((await get(first.healthPort, '/health/ready')).status).toBe(200);
      expect((await get(standbySidecar.healthPort, '/health/startup')).status).toBe(503);
      const standby = await get(standbySidecar.healthPort, '/health/ready');
      expect(standby.status).toBe(503);
      expect(standby.body.output).toMatch(
        /singletonLock:held: this task does not hold lock 'ghost-ha:takeover-test' \(the lease of .+ is live/,
      );

      // Gone without saying its Ghost stopped: the second waits out the lease (3 s from the last renewal).
      await first.close();
      const takeover = Date.now();
      await waitFor(
        async () => ((await get(standbySidecar.healthPort, '/health/startup')).status === 200 ? true : undefined),
        {
          what: 'the second sidecar to take the lock',
          timeoutMs: 10_000,
          intervalMs: 50,
        },
      );
      const tookMs = Date.now() - takeover;
      expect(tookMs).toBeGreaterThanOrEqual(3_000 - ONE_ROUND);
      expect(tookMs).toBeLessThanOrEqual(3_000 + ONE_ROUND);
      await readyBecomes(200, ONE_ROUND * 2, standbySidecar.healthPort);
    } finally {
      await first.close();
      await second?.close();
    }
  });

  it('fails while MariaDB is down but keeps Ghost running (the lease is still its own); passes once it is back', async () => {
    await mariadb.stop();
    expect(await readyBecomes(503, ONE_ROUND * 2)).toBeLessThanOrEqual(ONE_ROUND);
    await waitFor(async () => ((await checkStatus('singletonLock:held'))?.status === 'fail' ? true : undefined), {
      what: 'the lock to count as lost',
      timeoutMs: ONE_ROUND * 2,
      intervalMs: 50,
    });
    expect(await checkStatus('database:responseTime')).toMatchObject({ status: 'fail' });
    expect(await checkStatus('singletonLock:held')).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/lock connection lost .*this task stops its Ghost in \d+ s unless it does/),
    });
    // The ECS container health check: Ghost may keep running while the lock is taken back.
    expect((await get(sidecar.healthPort, '/health/startup')).status).toBe(200);

    await mariadb.start();
    await waitFor(async () => (sidecar.lock.held ? true : undefined), {
      what: 'the lock to be taken again',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await readyBecomes(200, ONE_ROUND * 2);
    expect((await get(sidecar.healthPort, '/health/startup')).status).toBe(200);
  });
  // Last: it drops Ghost's database (and the sidecar's lease table in it) for good.
  it("fails within two rounds of Ghost's database being dropped, naming it, though @@global reads still answer", async () => {
    await mariadb.rootQuery(`DROP DATABASE \`${database.database}\``);
    expect(await readyBecomes(503, ONE_ROUND * 2)).toBeLessThanOrEqual(ONE_ROUND * 2);
    // The error's name, in the first round that finished in time (on a loaded machine one may time out).
    await expect
      .poll(() => checkStatus('database:responseTime'), { timeout: ONE_ROUND * 4 })
      .toMatchObject({
        status: 'fail',
        // Read on the probe connection, or refused when a timed-out round made it reconnect.
        output: expect.stringMatching(
          /ER_BAD_DB_ERROR: (the database 'ghost_health' does not exist|Unknown database 'ghost_health')/,
        ),
      });
  });
});
