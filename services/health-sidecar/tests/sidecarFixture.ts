import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, type Env, leaseTableDdl, provisionLeaseSql } from '@ghost-ha/core';
import { type DatabaseSettings, GhostServer, healthSidecarEnv, MariaDbServer } from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { loadConfig, type SidecarConfig } from '../src/config.js';
import { DatabaseCredentials } from '../src/DatabaseCredentials.js';
import { Sidecar, type SidecarDependencies } from '../src/Sidecar.js';

const run = promisify(execFile);

/** Fast rounds for tests: a verdict changes within 0.9 s of what it reflects. */
export const INTERVAL_MS = 500;
export const TIMEOUT_MS = 400;
/**
 * The lease, scaled down: a holder that cannot renew keeps Ghost running for 15 - 1 - 0.5 = 13.5 s
 * (a database restart in a test fits), and a standby waits out a silent holder for 15 s.
 */
export const LEASE_TTL_MS = 15_000;
export const GHOST_STOP_TIMEOUT_MS = 1_000;
export const FENCE_MARGIN_MS = 500;

export const testLogger = createLogger({
  service: 'health-sidecar-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
});

/** The environment a task definition would give the sidecar, pointed at the test bed's Ghost and MariaDB. */
export function sidecarEnv(ghost: GhostServer, database: DatabaseSettings, contentPath: string, extra: Env = {}): Env {
  return healthSidecarEnv(
    { ghostUrl: ghost.url, contentPath, database },
    {
      SITE_URL: ghost.url,
      CHECK_INTERVAL_MS: String(INTERVAL_MS),
      CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
      LOCK_WAIT_SECONDS: '1',
      LOCK_RETRY_DELAY_MS: '200',
      DISK_FREE_WARN_MB: '0',
      DRAIN_TIMEOUT_MS: '5000',
      GHOST_STOP_WAIT_MS: '20000',
      STOP_TIMEOUT_MS: '30000',
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      GHOST_STOP_TIMEOUT_MS: String(GHOST_STOP_TIMEOUT_MS),
      FENCE_MARGIN_MS: String(FENCE_MARGIN_MS),
      ...extra,
    },
  );
}

/** The login of `settings` for a connector under test, never read again from a secret. */
export function fixedCredentials(settings: { user: string; password: string | undefined }): DatabaseCredentials {
  return new DatabaseCredentials({
    injected: { user: settings.user, password: settings.password ?? '' },
    user: settings.user,
    secretId: undefined,
    secrets: undefined,
    rereadIntervalMs: 30_000,
    timeoutMs: 2_000,
    now: Date.now,
    logger: testLogger,
  });
}

export async function startSidecar(env: Env, deps: Partial<SidecarDependencies> = {}): Promise<Sidecar> {
  const config = loadConfig(env);
  await provisionLock(config);
  return Sidecar.start(config, { logger: testLogger, host: '127.0.0.1', ...deps });
}

/**
 * The test bed provisions each fresh database's lease for the default lock name; a test with a lock
 * of its own (`LOCK_NAME`) gets that one provisioned the same way (a row already there stays).
 */
async function provisionLock(config: SidecarConfig): Promise<void> {
  const { host, port, user, password, database } = config.database;
  const connection = await mysql.createConnection({ host, port, user, password, database });
  try {
    await connection.query(leaseTableDdl());
    await connection.query(provisionLeaseSql(), [config.lock.name]);
  } finally {
    await connection.end();
  }
}

/** One series' value from the sidecar's registry, e.g. `ghost_ha_lease_takeovers_total{previous="none"}`; undefined when absent. */
export async function metric(sidecar: Sidecar, series: string): Promise<number | undefined> {
  const text = await sidecar.metrics.registry.metrics();
  const found = text.split('\n').find((line) => line.startsWith(`${series} `));
  return found ? Number(found.slice(series.length + 1)) : undefined;
}

export async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: Record<string, unknown>; contentType: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  return {
    status: response.status,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text },
    contentType: response.headers.get('content-type') ?? '',
  };
}

/**
 * A directory on its own tmpfs, so the test can make it read-only the way a volume turns read-only
 * (tests run as root, for whom permission bits do not stop writes).
 */
export class ContentVolume {
  readonly path: string;
  readonly #base: string;

  private constructor(base: string) {
    this.#base = base;
    this.path = join(base, 'content');
  }

  static async create(): Promise<ContentVolume> {
    const volume = new ContentVolume(await mkdtemp(join(tmpdir(), 'ghost-ha-sidecar-content-')));
    await mkdir(volume.path);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', volume.path]);
    return volume;
  }

  async setReadOnly(readOnly: boolean): Promise<void> {
    await run('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, this.path]);
  }

  async destroy(): Promise<void> {
    await run('umount', [this.path]).catch(() => undefined);
    await rm(this.#base, { recursive: true, force: true });
  }
}

/** What a sidecar in a Ghost task sees: a real MariaDB, a real Ghost on it, and a content volume. */
export class GhostTask {
  readonly mariadb: MariaDbServer;
  readonly database: DatabaseSettings;
  readonly ghost: GhostServer;
  readonly content: ContentVolume;

  private constructor(mariadb: MariaDbServer, database: DatabaseSettings, ghost: GhostServer, content: ContentVolume) {
    this.mariadb = mariadb;
    this.database = database;
    this.ghost = ghost;
    this.content = content;
  }

  static async start(databaseName: string): Promise<GhostTask> {
    const mariadb = await MariaDbServer.start();
    try {
      const database = await mariadb.database(databaseName);
      const [ghost, content] = await Promise.all([GhostServer.start({ database }), ContentVolume.create()]);
      return new GhostTask(mariadb, database, ghost, content);
    } catch (error) {
      await mariadb.destroy();
      throw error;
    }
  }

  async destroy(): Promise<void> {
    await this.ghost.destroy();
    await this.mariadb.destroy();
    await this.content.destroy();
  }
}
