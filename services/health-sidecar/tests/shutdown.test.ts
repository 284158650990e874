// @module-tag integration
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import {
  type DatabaseSettings,
  freePort,
  healthSidecarEnv,
  MariaDbServer,
  makeTemporaryDirectory,
  waitFor,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar } from './sidecarFixture.js';

const run = promisify(execFile);

/** The environment for a sidecar whose Ghost is at `ghostPort` (nothing there, or a stand-in). */
function env(database: DatabaseSettings, ghostPort: number, extra: Record<string, string> = {}) {
  return healthSidecarEnv({ ghostUrl: `http://127.0.0.1:${ghostPort}`, contentPath, database }, extra);
}

// The sidecar's content probe writes here (not in the temp dir itself, which a killed probe would litter).
let contentPath = '';

describe('shutdown when something does not cooperate (real MariaDB)', () => {
  let mariadb: MariaDbServer;
  let database: DatabaseSettings;

  beforeAll(async () => {
    contentPath = await makeTemporaryDirectory('sidecar-content-');
    mariadb = await MariaDbServer.start();
    database = await mariadb.database('ghost_shutdown');
  });

  afterAll(async () => {
    await mariadb?.destroy();
  });

  it('releases the lock after GHOST_STOP_WAIT_MS when Ghost keeps listening, and exits 0 within the stop timeout', async () => {
    // Stands in for a Ghost that does not stop: it accepts connections and never answers.
    const stubborn: Server = createServer(() => {});
    const port = await freePort();
    await new Promise<void>((resolve) => stubborn.listen(port, '127.0.0.1', resolve));
    const exits: { code: number; afterMs: number }[] = [];
    let started = 0;
    const sidecar = await startSidecar(
      env(database, port, { GHOST_STOP_WAIT_MS: '1500', DRAIN_TIMEOUT_MS: '1000', STOP_TIMEOUT_MS: '4000' }),
      { exit: (code) => exits.push({ code, afterMs: Date.now() - started }) },
    );
    try {
      await waitFor(async () => (sidecar.lock.held ? true : undefined), { what: 'the lock', timeoutMs: 5_000 });
      started = Date.now();
      await sidecar.shutdown('SIGTERM');
      expect(exits).toHaveLength(1);
      expect(exits[0]?.code).toBe(0);
      expect(exits[0]?.afterMs).toBeGreaterThanOrEqual(1_500);
      expect(exits[0]?.afterMs).toBeLessThan(4_000);
      const rows = (await mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS holder', [sidecar.lock.name])) as {
        holder: unknown;
      }[];
      expect(rows[0]?.holder).toBeNull();
      // Ghost was still listening: the lease is not marked stopped, so a next holder waits it out.
      const lease = (await mariadb.rootQuery(
        `SELECT ghost_may_run AS mayRun FROM ${database.database}.ghost_ha_lease WHERE name = ?`,
        [sidecar.lock.name],
      )) as { mayRun: number }[];
      expect(lease[0]?.mayRun).toBe(1);
    } finally {
      await sidecar.close();
      stubborn.close();
    }
  });

  it('still exits within the stop timeout when the database hangs during the release', async () => {
    const exits: { code: number; afterMs: number }[] = [];
    let started = 0;
    const sidecar = await startSidecar(
      env(database, await freePort(), {
        GHOST_STOP_WAIT_MS: '1000',
        DRAIN_TIMEOUT_MS: '1000',
        STOP_TIMEOUT_MS: '6000',
        // Not the lock of the test before, whose lease (Ghost never stopped there) is still live.
        LOCK_NAME: 'ghost-ha:shutdown-hang',
      }),
      { exit: (code) => exits.push({ code, afterMs: Date.now() - started }) },
    );
    const pid = await mariadbPid(database.port);
    try {
      await waitFor(async () => (sidecar.lock.held ? true : undefined), { what: 'the lock', timeoutMs: 5_000 });
      // A hung server: it keeps its sockets open and answers nothing.
      process.kill(pid, 'SIGSTOP');
      started = Date.now();
      await sidecar.shutdown('SIGTERM');
      // Not the hard stop (code 1 at ~5.5 s): the release gave up on the hung server by itself.
      expect(exits).toHaveLength(1);
      expect(exits[0]?.code).toBe(0);
      expect(exits[0]?.afterMs).toBeLessThan(4_000);
    } finally {
      process.kill(pid, 'SIGCONT');
      await sidecar.close();
    }
  });
});

/** The test bed's mariadbd for this port (its own process, found by its --port argument). */
async function mariadbPid(port: number): Promise<number> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  const line = stdout.split('\n').find((l) => l.includes('mariadbd') && l.includes(`--port=${port} `));
  const pid = Number(line?.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no mariadbd on port ${port}`);
  return pid;
}
