// @module-tag integration
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Env } from '@ghost-ha/core';
import { type DatabaseSettings, MariaDbServer, makeTemporaryDirectory, waitFor } from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FENCED_EXIT_CODE, Sidecar } from '../src/Sidecar.js';
import { lockOnlyEnv, mariadbPid, openConnections, openSockets, SidecarProcess } from './faultHelpers.js';
import { get, metric, startSidecar, testLogger } from './sidecarFixture.js';

const INTERVAL_MS = 500;
/** Lease settings of most tests here: patience 15 - 1 - 0.5 = 13.5 s, longer than any outage below. */
const LONG_LEASE = { LEASE_TTL_MS: '15000', GHOST_STOP_TIMEOUT_MS: '1000', FENCE_MARGIN_MS: '500' };
/** A short lease for the takeover tests: TTL 4 s, patience 4 - 1 - 0.5 = 2.5 s. */
const SHORT_TTL_MS = 4_000;
const SHORT_PATIENCE_MS = 2_500;
const SHORT_LEASE = { LEASE_TTL_MS: String(SHORT_TTL_MS), GHOST_STOP_TIMEOUT_MS: '1000', FENCE_MARGIN_MS: '500' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Samples every 50 ms which sidecars would let their Ghost run (what ECS reads on /health/startup),
 * and the readiness outputs, so a test can count overlaps and "still running" verdicts.
 */
class Sampler {
  readonly overlaps: number[] = [];
  readonly stillRunning: string[] = [];
  samples = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  start(sidecars: readonly Sidecar[]): void {
    const started = Date.now();
    this.#timer = setInterval(() => {
      this.samples++;
      if (sidecars.filter((s) => s.lock.mayRunGhost).length > 1) this.overlaps.push(Date.now() - started);
      if (this.#reading) return;
      this.#reading = true;
      void Promise.all(
        sidecars.map(async (s) => {
          // The database and lock checks (a content probe on a loaded machine may run late; not ours here).
          const { checks } = s.monitor.current.report;
          for (const key of ['database:responseTime', 'singletonLock:held']) {
            const output = checks[key]?.[0]?.output ?? '';
            if (output.includes('still running')) this.stillRunning.push(`${key}: ${output}`);
          }
        }),
      ).finally(() => {
        this.#reading = false;
      });
    }, 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function readyAfter(sidecar: Sidecar, since: number, timeoutMs: number): Promise<number> {
  await waitFor(async () => ((await get(sidecar.healthPort, '/health/ready')).status === 200 ? true : undefined), {
    what: '/health/ready to pass',
    timeoutMs,
    intervalMs: 20,
  });
  return Date.now() - since;
}

/** Polls with a trivial root query until the server answers; resolves with when it first did. */
async function answersAgain(mariadb: MariaDbServer): Promise<number> {
  await waitFor(async () => ((await mariadb.rootQuery('SELECT 1').then(() => true)) ? true : undefined), {
    what: 'MariaDB to answer',
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  return Date.now();
}

describe('fencing the one Ghost under faults (real MariaDB)', () => {
  let mariadb: MariaDbServer;
  const running: Sidecar[] = [];
  const processes: SidecarProcess[] = [];
  const findings: string[] = [];

  const start = async (env: Env, exits: number[] = []): Promise<Sidecar> => {
    const sidecar = await startSidecar(env, { exit: (code) => exits.push(code) });
    running.push(sidecar);
    return sidecar;
  };
  const holding = (sidecar: Sidecar, timeoutMs = 10_000) =>
    waitFor(async () => (sidecar.lock.held ? true : undefined), { what: 'the lock', timeoutMs, intervalMs: 20 });
  const database = async (name: string): Promise<DatabaseSettings> => mariadb.database(name);

  beforeAll(async () => {
    mariadb = await MariaDbServer.start();
  });

  afterAll(async () => {
    for (const sidecar of running) await sidecar.close().catch(() => undefined);
    for (const child of processes) await child.stop();
    await mariadb?.destroy();
    // The figures the README quotes, printed with the run.
    process.stdout.write(`fencing figures:\n  ${findings.join('\n  ')}\n`);
  });

  it('MariaDB SIGSTOP then SIGCONT: the holder keeps Ghost, the standby never starts one, ready again within 2 intervals', async () => {
    const settings = await database('fence_sigstop');
    const holder = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await holding(holder);
    const standby = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await readyAfter(holder, Date.now(), 5_000);
    await sleep(INTERVAL_MS * 2);
    const connectionsBefore = await openConnections(mariadb, settings.user);
    const socketsBefore = openSockets();
    const sampler = new Sampler();
    sampler.start([holder, standby]);
    const pid = await mariadbPid(settings.port);
    const stopped = Date.now();
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(async () => ((await get(holder.healthPort, '/health/ready')).status === 503 ? true : undefined), {
        what: 'readiness to fail',
        timeoutMs: 3_000,
        intervalMs: 20,
      });
      findings.push(`MariaDB SIGSTOP: readiness fails after ${Date.now() - stopped} ms`);
      await waitFor(async () => (holder.lock.state === 'regaining' ? true : undefined), {
        what: 'the lock connection to count as lost',
        timeoutMs: 3_000,
        intervalMs: 20,
      });
      findings.push(`MariaDB SIGSTOP: lock loss detected after ${Date.now() - stopped} ms`);
      await sleep(6_000 - (Date.now() - stopped));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const answered = await answersAgain(mariadb);
    const tookMs = await readyAfter(holder, answered, 10_000);
    findings.push(`MariaDB SIGSTOP 6 s then SIGCONT: ready ${tookMs} ms after the database answered`);
    expect(tookMs).toBeLessThanOrEqual(2 * INTERVAL_MS);
    await sleep(INTERVAL_MS * 3);
    sampler.stop();

    expect(holder.lock.held).toBe(true);
    expect(standby.lock.state).toBe('standby');
    expect(sampler.overlaps).toEqual([]);
    expect(sampler.stillRunning).toEqual([]);
    expect(await metric(holder, 'ghost_ha_singleton_lock_regains_total')).toBe(1);
    // Every dropped connection was replaced by one, not piled up: on the server and in this process.
    expect(await openConnections(mariadb, settings.user)).toBe(connectionsBefore);
    expect(openSockets()).toBeLessThanOrEqual(socketsBefore);
  });

  it('MariaDB SIGSTOP then killed and restarted: the holder takes its lock back and keeps Ghost', async () => {
    const settings = await database('fence_restart');
    const holder = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await holding(holder);
    const standby = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await readyAfter(holder, Date.now(), 5_000);
    const sampler = new Sampler();
    sampler.start([holder, standby]);
    process.kill(await mariadbPid(settings.port), 'SIGSTOP');
    await sleep(2_000);
    await mariadb.kill();
    await mariadb.start();
    const answered = await answersAgain(mariadb);
    const tookMs = await readyAfter(holder, answered, 10_000);
    findings.push(`MariaDB SIGSTOP 2 s, SIGKILL, restart: ready ${tookMs} ms after the database answered`);
    expect(tookMs).toBeLessThanOrEqual(2 * INTERVAL_MS);
    await sleep(INTERVAL_MS * 3);
    sampler.stop();
    expect(holder.lock.held).toBe(true);
    expect(standby.lock.state).toBe('standby');
    expect(sampler.overlaps).toEqual([]);
    expect(sampler.stillRunning).toEqual([]);
    const lease = (await mariadb.rootQuery(`SELECT holder FROM ${settings.database}.ghost_ha_lease`)) as {
      holder: string;
    }[];
    expect(lease).toEqual([{ holder: holder.lock.holder }]);
  });

  it('the lock connection KILLed server side: taken back within one interval, Ghost keeps running', async () => {
    const settings = await database('fence_kill');
    const holder = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await holding(holder);
    const standby = await start(await lockOnlyEnv(settings, LONG_LEASE));
    const sampler = new Sampler();
    sampler.start([holder, standby]);
    const [row] = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [holder.lock.name])) as { id: number }[];
    const killed = Date.now();
    await mariadb.rootQuery(`KILL ${Number(row?.id)}`);
    // Counted rather than polled as a state: the lock may be back before a poll sees it gone.
    await waitFor(
      async () =>
        (await metric(holder, 'ghost_ha_singleton_lock_losses_total{reason="connection"}')) === 1 ? true : undefined,
      { what: 'the loss to be seen', timeoutMs: 2_000, intervalMs: 2 },
    );
    const detectedMs = Date.now() - killed;
    await holding(holder, 5_000);
    const backMs = Date.now() - killed;
    findings.push(`lock connection KILLed: loss seen after ${detectedMs} ms, lock back after ${backMs} ms`);
    expect(backMs).toBeLessThanOrEqual(INTERVAL_MS);
    await sleep(INTERVAL_MS * 2);
    sampler.stop();
    expect(holder.lock.mayRunGhost).toBe(true);
    expect(standby.lock.mayRunGhost).toBe(false);
    expect(sampler.overlaps).toEqual([]);
    expect(await metric(holder, 'ghost_ha_singleton_lock_losses_total{reason="connection"}')).toBe(1);
  });

  it('writes blocked (FLUSH TABLES WITH READ LOCK): the lock stays, the check warns, Ghost keeps running', async () => {
    const settings = await database('fence_ftwrl');
    const holder = await start(await lockOnlyEnv(settings, LONG_LEASE));
    await holding(holder);
    const standby = await start(await lockOnlyEnv(settings, LONG_LEASE));
    const lockId = async () =>
      ((await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [holder.lock.name])) as { id: number }[])[0]?.id;
    const before = await lockId();
    const blocker = await mysql.createConnection({ ...settings });
    await sleep(INTERVAL_MS * 2);
    const baseline = await openConnections(mariadb, settings.user);
    const lockStatus = () => holder.monitor.current.report.checks['singletonLock:held']?.[0];
    const sampler = new Sampler();
    sampler.start([holder, standby]);
    let most = baseline;
    await blocker.query('FLUSH TABLES WITH READ LOCK');
    try {
      await waitFor(async () => (lockStatus()?.status === 'warn' ? true : undefined), {
        what: 'the lock check to warn',
        timeoutMs: 3_000,
        intervalMs: 20,
      });
      expect(lockStatus()?.output).toMatch(
        /the lease could not be renewed for \d+ s \(.*\); this task stops its Ghost in/,
      );
      for (let i = 0; i < 8; i++) {
        await sleep(500);
        most = Math.max(most, await openConnections(mariadb, settings.user));
      }
      expect(holder.lock.held).toBe(true);
      expect((await get(holder.healthPort, '/health/startup')).status).toBe(200);
    } finally {
      await blocker.query('UNLOCK TABLES');
      await blocker.end();
    }
    await waitFor(async () => (lockStatus()?.status === 'pass' ? true : undefined), {
      what: 'the lock check to pass again',
      timeoutMs: 2 * INTERVAL_MS + 500,
      intervalMs: 20,
    });
    sampler.stop();
    findings.push(`writes blocked 4 s: at most ${most - baseline} extra server connections while blocked`);
    // A renewal cut short here (400 ms) ends on the server at lock_wait_timeout (1 s): with one every
    // 500 ms, at most 1000 / 500 + 1 wait there at once, plus the one being opened; a loaded machine
    // stretches a round, so allow one round more. Bounded, not growing (and gone after the unlock below).
    expect(most - baseline).toBeLessThanOrEqual(6);
    await sleep(1_500);
    expect(await openConnections(mariadb, settings.user)).toBeLessThanOrEqual(baseline);
    expect(await lockId()).toBe(before);
    expect(sampler.overlaps).toEqual([]);
    expect(standby.lock.state).toBe('standby');
  });

  it('a standby waits out a live lease without holding the lock, so the old holder can take it back', async () => {
    const settings = await database('fence_backoff');
    const old = await startSidecar(await lockOnlyEnv(settings, SHORT_LEASE), { holder: 'old-task#1' });
    await holding(old);
    await sleep(INTERVAL_MS);
    // Gone without saying its Ghost stopped (as a task whose connection dropped): the lease stays live.
    await old.close();
    const standby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    const lockHolders = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const [row] = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [standby.lock.name])) as {
        id: number | null;
      }[];
      lockHolders.add(String(row?.id ?? null));
      await sleep(100);
    }
    expect([...lockHolders]).toEqual(['null']);
    expect(standby.lock.observe().output).toMatch(/the lease of old-task#1 is live \(renewed \d+ s ago\)/);
    // The old holder comes back (same holder id): its lease is its own, it takes the lock at once.
    const secondStandby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    const backAgain = await startSidecar(await lockOnlyEnv(settings, SHORT_LEASE), { holder: 'old-task#1' });
    running.push(backAgain);
    await holding(backAgain, 3_000);
    await sleep(SHORT_TTL_MS);
    expect(standby.lock.mayRunGhost).toBe(false);
    // Renewed by the holder that came back, the lease never expires for either standby.
    expect(secondStandby.lock.mayRunGhost).toBe(false);
    const lease = (await mariadb.rootQuery(`SELECT holder FROM ${settings.database}.ghost_ha_lease`)) as {
      holder: string;
    }[];
    expect(lease).toEqual([{ holder: 'old-task#1' }]);
  });

  it('a stalled holder (SIGSTOP): the standby waits out the lease, kills the stale lock connection, takes over; the holder exits when resumed', async () => {
    const settings = await database('fence_stall');
    const old = await SidecarProcess.start(await lockOnlyEnv(settings, SHORT_LEASE));
    processes.push(old);
    await old.waitUntilHolding();
    const standby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    await sleep(INTERVAL_MS * 2);
    old.signal('SIGSTOP');
    const stalled = Date.now();
    await waitFor(async () => (standby.lock.held ? true : undefined), {
      what: 'the standby to take over',
      timeoutMs: SHORT_TTL_MS + 10_000,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - stalled;
    findings.push(`holder SIGSTOPped: standby took over after ${takeoverMs} ms (lease TTL ${SHORT_TTL_MS} ms)`);
    // Its last renewal was at most one interval before the stall; the lock session's wait_timeout
    // (10 s) had not freed the lock yet: the standby killed the stale connection.
    expect(takeoverMs).toBeGreaterThanOrEqual(SHORT_TTL_MS - INTERVAL_MS);
    expect(takeoverMs).toBeLessThanOrEqual(SHORT_TTL_MS + 3_000);
    expect(await metric(standby, 'ghost_ha_lease_stale_holder_kills_total')).toBe(1);
    expect(await metric(standby, 'ghost_ha_lease_takeovers_total{previous="expired"}')).toBe(1);

    const resumed = Date.now();
    old.signal('SIGCONT');
    const exit = await old.exited;
    findings.push(`stalled holder resumed: exited ${Date.now() - resumed} ms later with ${exit.code}`);
    expect(exit.code).toBe(FENCED_EXIT_CODE);
    expect(Date.now() - resumed).toBeLessThan(2_000);
    expect(old.output).toMatch(/fenced/);
    expect(standby.lock.held).toBe(true);
  });

  it('a holder SIGKILLed: the standby starts Ghost only after the lease TTL; a clean stop hands over at once', async () => {
    const settings = await database('fence_crash');
    const old = await SidecarProcess.start(await lockOnlyEnv(settings, SHORT_LEASE));
    processes.push(old);
    await old.waitUntilHolding();
    const standby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    await sleep(INTERVAL_MS * 2);
    old.signal('SIGKILL');
    const killed = Date.now();
    await waitFor(async () => (standby.lock.held ? true : undefined), {
      what: 'the standby to take over',
      timeoutMs: SHORT_TTL_MS + 5_000,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - killed;
    findings.push(`holder SIGKILLed: standby took over after ${takeoverMs} ms (lease TTL ${SHORT_TTL_MS} ms)`);
    expect(takeoverMs).toBeGreaterThanOrEqual(SHORT_TTL_MS - INTERVAL_MS);
    expect(takeoverMs).toBeLessThanOrEqual(SHORT_TTL_MS + INTERVAL_MS + 500);

    // The holder now shuts down cleanly, its Ghost (nothing at GHOST_URL) stopped: no wait.
    const next = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    await sleep(INTERVAL_MS * 2);
    const stopping = Date.now();
    await standby.shutdown('SIGTERM');
    await holding(next, 5_000);
    const handoverMs = Date.now() - stopping;
    findings.push(`clean SIGTERM of the holder: next holder took over after ${handoverMs} ms`);
    expect(handoverMs).toBeLessThanOrEqual(INTERVAL_MS + 1_000);
    expect(await metric(next, 'ghost_ha_lease_takeovers_total{previous="released"}')).toBe(1);
  });

  it('a holder that cannot renew its lease for its patience exits (75), and says why', async () => {
    const settings = await database('fence_patience');
    const exits: number[] = [];
    const holder = await start(await lockOnlyEnv(settings, SHORT_LEASE), exits);
    await holding(holder);
    await sleep(INTERVAL_MS * 2);
    const pid = await mariadbPid(settings.port);
    process.kill(pid, 'SIGSTOP');
    const stalled = Date.now();
    try {
      await waitFor(async () => (exits.length > 0 ? true : undefined), {
        what: 'the fencing exit',
        timeoutMs: SHORT_PATIENCE_MS + 3_000,
        intervalMs: 10,
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const exitMs = Date.now() - stalled;
    findings.push(`database unreachable: holder exited after ${exitMs} ms (patience ${SHORT_PATIENCE_MS} ms)`);
    expect(exits).toEqual([FENCED_EXIT_CODE]);
    // Patience counts from the last renewal, up to an interval before the stall (up to three when a
    // busy machine runs the renewal timer late: seen 1,385 ms at a load of 12 on two cores).
    expect(exitMs).toBeGreaterThanOrEqual(SHORT_PATIENCE_MS - 3 * INTERVAL_MS);
    expect(exitMs).toBeLessThanOrEqual(SHORT_PATIENCE_MS + 200);
    const ready = await get(holder.healthPort, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.output).toMatch(/^Fenced: could not renew the lease for 2500 ms/);
    expect((await get(holder.healthPort, '/health/startup')).status).toBe(503);
  });

  it('a holder whose lease was taken while its connection was down exits at once instead of taking the lock back', async () => {
    const settings = await database('fence_taken');
    const exits: number[] = [];
    const holder = await start(await lockOnlyEnv(settings, LONG_LEASE), exits);
    await holding(holder);
    const [row] = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [holder.lock.name])) as { id: number }[];
    await mariadb.rootQuery(`UPDATE ${settings.database}.ghost_ha_lease SET holder = 'another-task#1'`);
    await mariadb.rootQuery(`KILL ${Number(row?.id)}`);
    await waitFor(async () => (exits.length > 0 ? true : undefined), {
      what: 'the fencing exit',
      timeoutMs: 2_000,
      intervalMs: 10,
    });
    expect(exits).toEqual([FENCED_EXIT_CODE]);
    expect(holder.lock.state).toBe('fenced');
    expect(await metric(holder, 'ghost_ha_singleton_lock_losses_total{reason="taken"}')).toBe(1);
  });

  it('a lease table of the previous version (no epoch) is brought up to date in place, and its row taken over', async () => {
    const settings = await database('fence_migrate');
    const table = `${settings.database}.ghost_ha_lease`;
    // The test bed provisions today's table; this database has the previous version's instead.
    await mariadb.rootQuery(`DROP TABLE ${table}`);
    await mariadb.rootQuery(
      `CREATE TABLE ${table} (name VARCHAR(64) NOT NULL PRIMARY KEY, holder VARCHAR(255) NOT NULL,
        heartbeat_at DATETIME(6) NOT NULL, taken_at DATETIME(6) NOT NULL, ttl_ms INT UNSIGNED NOT NULL,
        ghost_may_run TINYINT NOT NULL) ENGINE = InnoDB`,
    );
    // Released by a sidecar of the previous version.
    await mariadb.rootQuery(
      `INSERT INTO ${table} VALUES (?, 'previous-version#1', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 15000, 0)`,
      [`ghost-ha:${settings.database}`],
    );
    // Not provisioned: the sidecar meets the old table as it is.
    const holder = await Sidecar.start(loadConfig(await lockOnlyEnv(settings, LONG_LEASE)), {
      logger: testLogger,
      host: '127.0.0.1',
    });
    running.push(holder);
    await holding(holder);
    const [lock] = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [holder.lock.name])) as { id: number }[];
    const rows = await mariadb.rootQuery(`SELECT holder, epoch, lock_connection AS lockConnection FROM ${table}`);
    expect(rows).toEqual([{ holder: holder.lock.holder, epoch: 1, lockConnection: Number(lock?.id) }]);
    expect(await metric(holder, 'ghost_ha_lease_takeovers_total{previous="released"}')).toBe(1);
  });

  it('the lease row deleted under a holder: the holder exits (75), and no standby starts Ghost before a full TTL', async () => {
    const settings = await database('fence_deleted');
    const exits: number[] = [];
    const holder = await start(await lockOnlyEnv(settings, SHORT_LEASE), exits);
    await holding(holder);
    const standby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    await sleep(INTERVAL_MS * 2);
    await mariadb.rootQuery(`DELETE FROM ${settings.database}.ghost_ha_lease`);
    const deleted = Date.now();
    await waitFor(async () => (exits.length > 0 ? true : undefined), {
      what: 'the holder to be fenced',
      timeoutMs: 3_000,
      intervalMs: 10,
    });
    const fencedMs = Date.now() - deleted;
    expect(exits).toEqual([FENCED_EXIT_CODE]);
    await waitFor(async () => (standby.lock.held ? true : undefined), {
      what: 'the standby to take over',
      timeoutMs: SHORT_TTL_MS + 5_000,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - deleted;
    findings.push(
      `lease row deleted: holder exited after ${fencedMs} ms, standby took over after ${takeoverMs} ms (TTL ${SHORT_TTL_MS} ms)`,
    );
    expect(takeoverMs).toBeGreaterThanOrEqual(SHORT_TTL_MS);
    expect(holder.lock.state).toBe('fenced');
  });

  it('the lease aged 60 s at once (as a database clock step shows it) while its holder is down: no takeover before a full TTL on the standby’s clock', async () => {
    const settings = await database('fence_clock');
    const old = await SidecarProcess.start(await lockOnlyEnv(settings, SHORT_LEASE));
    processes.push(old);
    await old.waitUntilHolding();
    const standby = await start(await lockOnlyEnv(settings, SHORT_LEASE));
    await sleep(INTERVAL_MS * 2);
    old.signal('SIGKILL');
    await old.exited;
    await mariadb.rootQuery(
      `UPDATE ${settings.database}.ghost_ha_lease SET heartbeat_at = heartbeat_at - INTERVAL 60 SECOND`,
    );
    const stepped = Date.now();
    await waitFor(async () => (standby.lock.held ? true : undefined), {
      what: 'the standby to take over',
      timeoutMs: SHORT_TTL_MS + 5_000,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - stepped;
    findings.push(
      `lease aged 60 s at once, holder down: standby took over after ${takeoverMs} ms (TTL ${SHORT_TTL_MS} ms)`,
    );
    expect(takeoverMs).toBeGreaterThanOrEqual(SHORT_TTL_MS);
  });

  it('the watchdog file: no deadline while standing by, last renewal + patience while holding, none once released', async () => {
    const settings = await database('fence_watchdog');
    const file = join(await makeTemporaryDirectory('sidecar-watchdog-'), 'watchdog.json');
    const read = async () => JSON.parse(await readFile(file, 'utf8')) as { pid: number; deadline: number | null };
    const env = await lockOnlyEnv(settings, { ...SHORT_LEASE, WATCHDOG_FILE: file });
    const holder = await start(env);
    await holding(holder);
    const standbyFile = join(await makeTemporaryDirectory('sidecar-watchdog-'), 'watchdog.json');
    const standby = await start({ ...env, WATCHDOG_FILE: standbyFile });
    await sleep(INTERVAL_MS * 2);
    const held = await read();
    expect(held.pid).toBe(process.pid);
    // Renewed within the last few intervals (a loaded machine delays a renewal timer by a round or two);
    // a deadline counted from anything older than the last renewal would be below this.
    const left = Number(held.deadline) - Date.now();
    expect(left).toBeGreaterThan(SHORT_PATIENCE_MS - 3 * INTERVAL_MS);
    expect(left).toBeLessThanOrEqual(SHORT_PATIENCE_MS);
    expect(JSON.parse(await readFile(standbyFile, 'utf8'))).toEqual({ pid: process.pid, deadline: null });
    await holder.shutdown('SIGTERM');
    expect((await read()).deadline).toBe(null);
    await waitFor(async () => (standby.lock.held ? true : undefined), { what: 'the takeover', timeoutMs: 5_000 });
    expect(Number(JSON.parse(await readFile(standbyFile, 'utf8')).deadline)).toBeGreaterThan(Date.now());
  });

  it('every query settles within its time limit against a hung server', async () => {
    const settings = await database('fence_timeouts');
    const { boundedQuery } = await import('../src/boundedQuery.js');
    const { QueryTimeoutError } = await import('../src/errors.js');
    const connection = await mysql.createConnection({ ...settings });
    const pid = await mariadbPid(settings.port);
    process.kill(pid, 'SIGSTOP');
    // The signal stops every thread of the server, but not before a query already read is answered.
    await sleep(100);
    try {
      const started = Date.now();
      const outcome = await boundedQuery(connection, 'SELECT SLEEP(0)', [], { timeoutMs: 300 }).catch(
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(QueryTimeoutError);
      expect(Date.now() - started).toBeLessThan(400);
      // The connection was destroyed for real: the next query fails at once instead of queueing.
      const next = Date.now();
      await expect(connection.query('SELECT 1')).rejects.toThrow();
      expect(Date.now() - next).toBeLessThan(100);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
