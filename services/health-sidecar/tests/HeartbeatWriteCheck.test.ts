// @module-tag ghost

import { execFile } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRegistry } from '@ghost-ha/core';
import { type DatabaseSettings, type GhostServer, type MariaDbServer, waitFor } from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithMysql2, DatabaseConnector } from '../src/DatabaseConnector.js';
import { HEARTBEAT_TABLE, HeartbeatWriteCheck, type HeartbeatWriteCheckOptions } from '../src/HeartbeatWriteCheck.js';
import type { Sidecar } from '../src/Sidecar.js';
import { SidecarMetrics } from '../src/SidecarMetrics.js';
import {
  type ContentVolume,
  fixedCredentials,
  GhostTask,
  get,
  INTERVAL_MS,
  metric,
  sidecarEnv,
  startSidecar,
  TIMEOUT_MS,
  testLogger,
} from './sidecarFixture.js';

const run = promisify(execFile);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A lease whose patience (60 - 1 - 0.5 = 58.5 s) outlasts the 30 s write stall: the holder never fences. */
const LONG_LEASE = { LEASE_TTL_MS: '60000' };

interface HeartbeatStatement {
  id: number;
  ms: number;
}

/**
 * While a fault lasts: probes `/health/ready` and `/health` back to back and times each answer;
 * reads the server's processlist every 100 ms for the application user's heartbeat statements; and
 * samples the sidecars' lock state every 50 ms.
 */
class Watch {
  slowestProbeMs = 0;
  probes = 0;
  readonly readyStatuses = new Set<string>();
  mostHeartbeatWrites = 0;
  longestHeartbeatWaitMs = 0;
  notMayRun = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];

  constructor(mariadb: MariaDbServer, user: string, sidecars: readonly Sidecar[]) {
    this.#loops.push(
      this.#repeat(25, async () => {
        const sidecar = sidecars[0];
        if (!sidecar) return;
        for (const path of ['/health/ready', '/health']) {
          const started = performance.now();
          const { body } = await get(sidecar.healthPort, path);
          this.slowestProbeMs = Math.max(this.slowestProbeMs, performance.now() - started);
          this.probes++;
          if (path === '/health/ready') this.readyStatuses.add(String(body.status));
        }
      }),
      this.#repeat(100, async () => {
        const rows = (await mariadb.rootQuery(
          `SELECT ID AS id, TIME_MS AS ms FROM information_schema.PROCESSLIST
            WHERE USER = ? AND COMMAND = 'Query' AND INFO LIKE '%${HEARTBEAT_TABLE}%'`,
          [user],
        )) as HeartbeatStatement[];
        this.mostHeartbeatWrites = Math.max(this.mostHeartbeatWrites, rows.length);
        for (const row of rows) this.longestHeartbeatWaitMs = Math.max(this.longestHeartbeatWaitMs, Number(row.ms));
      }),
      this.#repeat(50, async () => {
        if (sidecars.some((s) => !s.lock.mayRunGhost)) this.notMayRun++;
      }),
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #repeat(pauseMs: number, body: () => Promise<void>): Promise<void> {
    while (this.#running) {
      await body();
      await sleep(pauseMs);
    }
  }
}

/** The check alone, as `settings`' user, with the test bed's check interval and statement limit. */
function standaloneCheck(
  settings: DatabaseSettings,
  options: Pick<HeartbeatWriteCheckOptions, 'holder' | 'timeoutMs' | 'stallFailMs'>,
): HeartbeatWriteCheck {
  return new HeartbeatWriteCheck({
    connector: new DatabaseConnector({
      settings: { ...settings, passwordSecretId: undefined, secretRereadMs: 30_000, ssl: undefined },
      connect: connectWithMysql2,
      credentials: fixedCredentials(settings),
      connectTimeoutMs: 2_000,
    }),
    intervalMs: INTERVAL_MS,
    queryTimeoutMs: TIMEOUT_MS,
    now: Date.now,
    metrics: new SidecarMetrics(createRegistry()),
    logger: testLogger,
    ...options,
  });
}

describe('the heartbeat write probe against a real Ghost on a real MariaDB', () => {
  let task: GhostTask;
  let mariadb: MariaDbServer;
  let database: DatabaseSettings;
  let ghost: GhostServer;
  let content: ContentVolume;
  let sidecar: Sidecar;
  const exits: number[] = [];

  const writeCheck = (s: Sidecar = sidecar) => s.monitor.current.report.checks['database:writeTime']?.[0];
  const lockConnection = async () =>
    ((await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS id', [sidecar.lock.name])) as { id: number | null }[])[0]?.id;
  /** Polls the verdict until `matches`; resolves with how long that took. */
  const verdictBecomes = async (
    s: Sidecar,
    matches: (status: string, output: string) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<number> => {
    const started = Date.now();
    await waitFor(
      async () => {
        const { body } = await get(s.healthPort, '/health/ready');
        return matches(String(body.status), String(body.output ?? '')) ? true : undefined;
      },
      { what, timeoutMs, intervalMs: 20 },
    );
    return Date.now() - started;
  };

  beforeAll(async () => {
    task = await GhostTask.start('ghost_write_probe');
    ({ mariadb, database, ghost, content } = task);
    sidecar = await startSidecar(sidecarEnv(ghost, database, content.path, LONG_LEASE), {
      exit: (code) => exits.push(code),
    });
    await verdictBecomes(sidecar, (status) => status === 'pass', 'the first pass', 15_000);
  });

  afterAll(async () => {
    await sidecar?.close();
    await task?.destroy();
  });

  it('passes with the write time, its one row written on the database clock, and the write age as a metric', async () => {
    expect(writeCheck()).toMatchObject({
      status: 'pass',
      componentType: 'datastore',
      observedUnit: 'ms',
      observedValue: expect.any(Number),
    });
    const rows = (await mariadb.rootQuery(
      `SELECT holder, TIMESTAMPDIFF(MICROSECOND, written_at, UTC_TIMESTAMP(6)) AS ageUs FROM ${database.database}.${HEARTBEAT_TABLE}`,
    )) as { holder: string; ageUs: number }[];
    expect(rows.map((r) => r.holder)).toEqual([sidecar.lock.holder]);
    expect(Number(rows[0]?.ageUs)).toBeLessThan(3 * INTERVAL_MS * 1000);
    const age = await metric(sidecar, 'ghost_ha_heartbeat_write_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan((3 * INTERVAL_MS) / 1000);
  });

  it('FLUSH TABLES WITH READ LOCK held 30 s: warn naming blocked writes, fast probes, one write in flight, pass after UNLOCK, the lock never moves', async () => {
    const lockBefore = await lockConnection();
    const ghostPid = ghost.pid;
    const takeoversBefore = await metric(sidecar, 'ghost_ha_lease_takeovers_total{previous="none"}');
    const blocker = await mysql.createConnection({ ...database });
    const watch = new Watch(mariadb, database.user, [sidecar]);
    let warnMs: number;
    let mostAgeS = 0;
    let unlocked: number;
    let whileBlocked: string[];
    try {
      await blocker.query('FLUSH TABLES WITH READ LOCK');
      const locked = Date.now();
      warnMs = await verdictBecomes(
        sidecar,
        (status, output) => status === 'warn' && /database:writeTime: writes are blocked/.test(output),
        'the verdict to warn of blocked writes',
        2 * INTERVAL_MS + 1_000,
      );
      expect(writeCheck()).toMatchObject({
        status: 'warn',
        observedUnit: 'ms',
        output: expect.stringMatching(/^writes are blocked: no heartbeat write has (finished|succeeded) for \d+\.\d s/),
      });
      watch.readyStatuses.clear();
      while (Date.now() - locked < 30_000) {
        await sleep(1_000);
        mostAgeS = Math.max(mostAgeS, (await metric(sidecar, 'ghost_ha_heartbeat_write_age_seconds')) ?? 0);
      }
      // Thirty seconds blocked, still `warn`: below WRITE_STALL_FAIL_MS (60 s by default).
      expect(writeCheck()?.status).toBe('warn');
      expect(Number(writeCheck()?.observedValue)).toBeGreaterThan(25_000);
      whileBlocked = [...watch.readyStatuses];
    } finally {
      await blocker.query('UNLOCK TABLES');
      unlocked = Date.now();
      await blocker.end();
    }
    const passMs = await verdictBecomes(
      sidecar,
      (status) => status === 'pass',
      'the verdict to pass again',
      2 * INTERVAL_MS + 1_000,
    );
    await watch.stop();
    process.stdout.write(
      `write probe, FTWRL 30 s: warn after ${warnMs} ms, pass ${passMs} ms after UNLOCK (${Date.now() - unlocked} ms), ` +
        `${watch.probes} probes, slowest ${Math.round(watch.slowestProbeMs)} ms, ` +
        `at most ${watch.mostHeartbeatWrites} heartbeat write(s) on the server, longest wait ${watch.longestHeartbeatWaitMs} ms\n`,
    );
    // Within two intervals of the fault and of its end (with room for the polling).
    expect(warnMs).toBeLessThanOrEqual(2 * INTERVAL_MS + 300);
    expect(passMs).toBeLessThanOrEqual(2 * INTERVAL_MS + 300);
    // `warn` throughout: served all along, never failed over.
    expect(whileBlocked).toEqual(['warn']);
    expect(watch.slowestProbeMs).toBeLessThan(1_000);
    expect(watch.probes).toBeGreaterThan(200);
    // Never a pile-up: one heartbeat write at a time, though one waited across rounds.
    expect(watch.mostHeartbeatWrites).toBe(1);
    expect(watch.longestHeartbeatWaitMs).toBeGreaterThan(INTERVAL_MS);
    expect(mostAgeS).toBeGreaterThan(25);
    // The lock never moved and Ghost was never stopped.
    expect(watch.notMayRun).toBe(0);
    expect(exits).toEqual([]);
    expect(sidecar.lock.held).toBe(true);
    expect(await lockConnection()).toBe(lockBefore);
    expect(await metric(sidecar, 'ghost_ha_lease_takeovers_total{previous="none"}')).toBe(takeoversBefore);
    expect(ghost.pid).toBe(ghostPid);
    expect(ghost.isRunning).toBe(true);
    expect(await metric(sidecar, 'ghost_ha_heartbeat_write_age_seconds')).toBeLessThan((3 * INTERVAL_MS) / 1000);
  }, 90_000);

  it('a write stall longer than WRITE_STALL_FAIL_MS turns fail; pass again after UNLOCK', async () => {
    const limitMs = 2_000;
    // A lock of its own: it holds that one, and the main sidecar keeps its own.
    const strict = await startSidecar(
      sidecarEnv(ghost, database, content.path, {
        ...LONG_LEASE,
        LOCK_NAME: 'ghost-ha:stall-test',
        WRITE_STALL_FAIL_MS: String(limitMs),
      }),
    );
    try {
      await verdictBecomes(strict, (status) => status === 'pass', 'the strict sidecar to pass', 15_000);
      const blocker = await mysql.createConnection({ ...database });
      const watch = new Watch(mariadb, database.user, [strict, sidecar]);
      let warned: number;
      let failed: number;
      let locked: number;
      try {
        await blocker.query('FLUSH TABLES WITH READ LOCK');
        locked = Date.now();
        await verdictBecomes(
          strict,
          (status) => status === 'warn',
          'the strict sidecar to warn',
          2 * INTERVAL_MS + 1_000,
        );
        warned = Date.now();
        await verdictBecomes(
          strict,
          (status, output) =>
            status === 'fail' &&
            /database:writeTime: writes are blocked: .*; past the 2000 ms limit \(WRITE_STALL_FAIL_MS\)/.test(output),
          'the strict sidecar to fail',
          limitMs + 2 * INTERVAL_MS + 1_000,
        );
        failed = Date.now();
        expect(writeCheck(strict)).toMatchObject({ status: 'fail', observedValue: expect.any(Number) });
        expect(Number(writeCheck(strict)?.observedValue)).toBeGreaterThanOrEqual(limitMs);
        // The default limit (60 s) keeps the main sidecar at `warn`.
        expect(sidecar.monitor.current.report.status).toBe('warn');
      } finally {
        await blocker.query('UNLOCK TABLES');
        await blocker.end();
      }
      const passMs = await verdictBecomes(strict, (status) => status === 'pass', 'pass again', 2 * INTERVAL_MS + 1_000);
      await watch.stop();
      process.stdout.write(
        `write probe, stall limit ${limitMs} ms: warn after ${warned - locked} ms, fail after ${failed - locked} ms, pass ${passMs} ms after UNLOCK\n`,
      );
      // Not before the limit, and within two intervals of it (the stall is counted from the first blocked write).
      expect(failed - locked).toBeGreaterThanOrEqual(limitMs);
      expect(failed - locked).toBeLessThanOrEqual(limitMs + 2 * INTERVAL_MS + 300);
      expect(passMs).toBeLessThanOrEqual(2 * INTERVAL_MS + 300);
      expect(watch.slowestProbeMs).toBeLessThan(1_000);
      // One write in flight per sidecar, two sidecars.
      expect(watch.mostHeartbeatWrites).toBeLessThanOrEqual(2);
      expect(strict.lock.held).toBe(true);
      expect(exits).toEqual([]);
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('MariaDB hung (SIGSTOP) 4 s: every round answers within its limit, warns, and after SIGCONT passes again with one row and one connection', async () => {
    // A database of its own: the main sidecar's rounds empty the heartbeat table in Ghost's.
    const alone = await mariadb.database('write_probe_hang');
    const hung = { ...alone, user: 'heartbeat_hang', password: 'heartbeat-hang-password' };
    for (const host of ['%', 'localhost']) {
      await mariadb.rootQuery(`CREATE USER IF NOT EXISTS '${hung.user}'@'${host}' IDENTIFIED BY '${hung.password}'`);
      await mariadb.rootQuery(`GRANT ALL ON \`${alone.database}\`.* TO '${hung.user}'@'${host}'`);
    }
    const check = standaloneCheck(hung, { holder: 'hang-test#1', timeoutMs: 200, stallFailMs: 0 });
    const round = async () => {
      const started = performance.now();
      const observation = await check.run(new AbortController().signal);
      return { ...observation, ms: performance.now() - started };
    };
    try {
      expect((await round()).status).toBe('pass');
      mariadb.signal('SIGSTOP');
      const during: { status: string; output?: string; ms: number }[] = [];
      try {
        const stopped = Date.now();
        while (Date.now() - stopped < 4_000) {
          during.push(await round());
          await sleep(INTERVAL_MS - 200);
        }
      } finally {
        mariadb.signal('SIGCONT');
      }
      expect(during.length).toBeGreaterThanOrEqual(5);
      // A round waits at most its own limit, though the write it started never answered.
      expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(200 + 150);
      expect(during.every((r) => r.status === 'warn' && /^writes are blocked/.test(r.output ?? ''))).toBe(true);
      await waitFor(async () => ((await round()).status === 'pass' ? true : undefined), {
        what: 'the write probe to pass after SIGCONT',
        timeoutMs: 5_000,
        intervalMs: INTERVAL_MS,
      });
      // The hung write's connection was cut, not kept beside the new one; one row, not two.
      await expect
        .poll(
          async () =>
            (
              (await mariadb.rootQuery('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [
                hung.user,
              ])) as { n: number }[]
            )[0]?.n,
          { timeout: 5_000 },
        )
        .toBe(1);
      const rows = (await mariadb.rootQuery(
        `SELECT holder FROM \`${alone.database}\`.${HEARTBEAT_TABLE} WHERE holder = 'hang-test#1'`,
      )) as { holder: string }[];
      expect(rows).toHaveLength(1);
    } finally {
      check.close();
    }
  }, 30_000);

  it('data volume full (a 4 MiB tmpfs): the next round warns naming the database error, fails after WRITE_STALL_FAIL_MS, passes the round after space is freed', async () => {
    // The database's directory is a volume of its own: a tmpfs mounted where its tables live.
    const name = 'full_volume';
    const volume = join(mariadb.dataDirectory, name);
    await mkdir(volume);
    // Needs root, as the content volume's tests do.
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', volume]);
    const ballast = join(volume, 'ballast');
    const stallFailMs = 3 * INTERVAL_MS;
    const full = { ...database, database: name };
    const check = standaloneCheck(full, { holder: 'full-volume#1', timeoutMs: 2_000, stallFailMs });
    const round = () => check.run(new AbortController().signal);
    const db = await mysql.createConnection(full);
    try {
      expect((await round()).status).toBe('pass');
      // A table of Ghost's shape that has to grow, as a post save does.
      await db.query('CREATE TABLE posts_like (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT) ENGINE = InnoDB');
      expect((await round()).status).toBe('pass');
      // Fill the volume to the last byte with a file of its own.
      const file = await open(ballast, 'w');
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) await file.write(chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        await file.close();
      }
      // Saves now fail once the free pages the table already had are used up.
      let saveError: unknown;
      for (let i = 0; i < 50 && saveError === undefined; i++)
        await db.query(`INSERT INTO posts_like (body) VALUES (REPEAT('p', 5000))`).catch((error: unknown) => {
          saveError = error;
        });
      expect(saveError).toMatchObject({ code: 'ER_RECORD_FILE_FULL' });
      const filled = Date.now();
      const first = await round();
      expect(first).toMatchObject({
        status: 'warn',
        output: expect.stringMatching(
          /^writes are blocked: no heartbeat write has succeeded for \d+\.\d s \(last: ER_RECORD_FILE_FULL: The table '.*' is full\)$/,
        ),
      });
      // Failing writes count as blocked ones: `fail` once that lasts WRITE_STALL_FAIL_MS.
      let last = first;
      while (last.status !== 'fail' && Date.now() - filled < stallFailMs + 3 * INTERVAL_MS) {
        await sleep(INTERVAL_MS);
        last = await round();
      }
      const failedAfterMs = Date.now() - filled;
      expect(last).toMatchObject({
        status: 'fail',
        output: expect.stringMatching(/ER_RECORD_FILE_FULL.*past the 1500 ms limit \(WRITE_STALL_FAIL_MS\)$/),
      });
      await rm(ballast);
      const freed = Date.now();
      const after = await round();
      process.stdout.write(
        `write probe, full volume: warn on the first round (${first.output}), fail after ${failedAfterMs} ms, ` +
          `${after.status} on the first round after freeing (${Date.now() - freed} ms)\n`,
      );
      expect(after.status).toBe('pass');
      // Bounded: the table holds the last round's row only.
      const rows = (await db.query(`SELECT holder FROM ${HEARTBEAT_TABLE}`))[0] as { holder: string }[];
      expect(rows.map((r) => r.holder)).toEqual(['full-volume#1']);
    } finally {
      check.close();
      await db.end();
      await rm(ballast, { force: true });
      await mariadb.rootQuery(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
      await run('umount', [volume]);
      await rm(volume, { recursive: true, force: true });
    }
  }, 60_000);

  it('needs no more than the documented privileges: CREATE, DROP, INSERT on its table', async () => {
    const alone = await mariadb.database('write_probe_grants');
    const limited = { ...alone, user: 'heartbeat_only', password: 'heartbeat-only-password' };
    for (const host of ['%', 'localhost']) {
      await mariadb.rootQuery(
        `CREATE USER IF NOT EXISTS '${limited.user}'@'${host}' IDENTIFIED BY '${limited.password}'`,
      );
    }
    await mariadb.rootQuery(`DROP TABLE IF EXISTS \`${alone.database}\`.${HEARTBEAT_TABLE}`);
    const grant = (table: string) =>
      Promise.all(
        ['%', 'localhost'].map((host) =>
          mariadb.rootQuery(
            `GRANT CREATE, DROP, INSERT ON \`${alone.database}\`.\`${table}\` TO '${limited.user}'@'${host}'`,
          ),
        ),
      );
    await grant(HEARTBEAT_TABLE);
    const check = standaloneCheck(limited, { holder: 'grants-test#1', timeoutMs: 2_000, stallFailMs: 0 });
    try {
      // The first write creates the table; the second empties it and inserts a new row.
      expect((await check.run(new AbortController().signal)).status).toBe('pass');
      const first = (await mariadb.rootQuery(
        `SELECT written_at AS at FROM \`${alone.database}\`.${HEARTBEAT_TABLE} WHERE holder = 'grants-test#1'`,
      )) as { at: Date }[];
      await sleep(20);
      expect(await check.run(new AbortController().signal)).toMatchObject({ status: 'pass' });
      const second = (await mariadb.rootQuery(
        `SELECT written_at AS at FROM \`${alone.database}\`.${HEARTBEAT_TABLE} WHERE holder = 'grants-test#1'`,
      )) as { at: Date }[];
      expect(first).toHaveLength(1);
      expect(second[0]?.at.getTime()).toBeGreaterThan(first[0]?.at.getTime() ?? Infinity);
    } finally {
      check.close();
    }
    // Without them the check warns and says why (the privilege error), rather than failing at once.
    const denied = standaloneCheck(limited, { holder: 'grants-test#2', timeoutMs: 2_000, stallFailMs: 60_000 });
    for (const host of ['%', 'localhost'])
      await mariadb.rootQuery(
        `REVOKE DROP ON \`${alone.database}\`.\`${HEARTBEAT_TABLE}\` FROM '${limited.user}'@'${host}'`,
      );
    try {
      expect(await denied.run(new AbortController().signal)).toMatchObject({
        status: 'warn',
        output: expect.stringMatching(/writes are blocked: no heartbeat write has succeeded .*ACCESS_DENIED/),
      });
    } finally {
      denied.close();
    }
  });
});
