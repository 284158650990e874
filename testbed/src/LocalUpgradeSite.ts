import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BackupPoint,
  type SiteCopy,
  UpgradeLockedError,
  type UpgradeSite,
  type UpgradeTarget,
} from '@ghost-ha/infra/upgrade';
import mysql from 'mysql2/promise';
import { LocalGhost } from './LocalGhost.js';
import type { MariaDbServer } from './MariaDbServer.js';

export interface LocalUpgradeSiteOptions {
  mariadb: MariaDbServer;
  /** Production's database on that server. */
  database: string;
  contentDir: string;
  /** Production's running Ghost; the site stops and starts it (same port and url) from then on. */
  ghost: LocalGhost;
  adminApiKey: string;
}

/**
 * The test bed's stand-in for the deployment, for the rehearsal, the upgrade and the rollback.
 * The Aurora clone is a dump of production's database loaded into a new database on the same
 * MariaDB, the content copy a copy of the content directory; the backup point is a dump and a
 * content copy taken while Ghost is stopped; the upgrade lock a MariaDB named lock held on a
 * connection of its own (as the singleton's lease is held on the database Ghost uses).
 */
export class LocalUpgradeSite implements UpgradeSite, UpgradeTarget {
  readonly url: string;
  readonly adminApiKey: string;
  /** Called once on a database before the next Ghost boots on it: a fault to inject. */
  tamperBeforeNextBoot: ((database: string) => Promise<void>) | undefined;
  #ghost: LocalGhost | undefined;
  readonly #options: LocalUpgradeSiteOptions;
  /** Backup points by label: their directory. */
  readonly #backups = new Map<string, string>();

  constructor(options: LocalUpgradeSiteOptions) {
    this.#options = options;
    this.#ghost = options.ghost;
    this.url = options.ghost.url;
    this.adminApiKey = options.adminApiKey;
  }

  /** The Ghost that runs production now (undefined while stopped). */
  get ghost(): LocalGhost | undefined {
    return this.#ghost;
  }

  async copy(label: string): Promise<SiteCopy> {
    const { mariadb } = this.#options;
    const started = performance.now();
    const database = label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .slice(0, 60);
    const dir = await mkdtemp(join(tmpdir(), 'ghost-ha-copy-'));
    const contentDir = join(dir, 'content');
    let ghost: LocalGhost | undefined;
    const remove = async () => {
      await ghost?.destroy();
      await mariadb.dropDatabase(database);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await mariadb.dumpDatabase(this.#options.database, join(dir, 'dump.sql'));
      await mariadb.loadDatabase(database, join(dir, 'dump.sql'));
      await cp(this.#options.contentDir, contentDir, { recursive: true });
    } catch (error) {
      await remove();
      throw error;
    }
    const copyMs = Math.round(performance.now() - started);
    // A release booted on the copy's database and content.
    const startOnCopy = async (version: string, timeoutMs: number) => {
      ghost = await LocalGhost.start({
        version,
        database: await mariadb.database(database),
        contentDir,
        bootTimeoutMs: timeoutMs,
      });
      return { url: ghost.url };
    };
    return {
      label: database,
      copyMs,
      migrationCount: () => this.#migrationCount(database),
      boot: async (version, timeoutMs) => {
        await this.#tamper(database);
        return startOnCopy(version, timeoutMs);
      },
      restoreAndBoot: async (version, timeoutMs) => {
        await ghost?.stop();
        await ghost?.destroy();
        ghost = undefined;
        await mariadb.loadDatabase(database, join(dir, 'dump.sql'));
        await rm(contentDir, { recursive: true, force: true });
        await cp(this.#options.contentDir, contentDir, { recursive: true });
        return startOnCopy(version, timeoutMs);
      },
      remove,
    };
  }

  async lock(): Promise<() => Promise<void>> {
    const settings = await this.#options.mariadb.database(this.#options.database);
    const connection = await mysql.createConnection({ ...settings, ssl: undefined });
    const name = `ghost-ha-upgrade:${this.#options.database}`;
    const [rows] = await connection.query('SELECT GET_LOCK(?, 0) AS taken', [name]);
    if ((rows as { taken: number | null }[])[0]?.taken !== 1) {
      await connection.end();
      throw new UpgradeLockedError(`Another upgrade or rollback of this site is running (lock ${name})`);
    }
    return async () => {
      await connection.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
      await connection.end();
    };
  }

  async stopGhost(): Promise<void> {
    const ghost = this.#ghost;
    this.#ghost = undefined;
    // SIGTERM first, as ECS stops a task: Ghost finishes its requests and closes its connections.
    await ghost?.stop();
    await ghost?.destroy();
  }

  async startGhost(version: string, timeoutMs: number): Promise<void> {
    if (this.#ghost) throw new Error(`Ghost ${this.#ghost.version} still runs: stop it first`);
    await this.#tamper(this.#options.database);
    const port = Number(new URL(this.url).port);
    this.#ghost = await LocalGhost.start({
      version,
      database: await this.#options.mariadb.database(this.#options.database),
      contentDir: this.#options.contentDir,
      url: this.url,
      port,
      bootTimeoutMs: timeoutMs,
    });
  }

  async backup(label: string, version: string): Promise<BackupPoint> {
    const started = performance.now();
    const dir = await mkdtemp(join(tmpdir(), 'ghost-ha-backup-'));
    this.#backups.set(label, dir);
    await this.#options.mariadb.dumpDatabase(this.#options.database, join(dir, 'database.sql'));
    await cp(this.#options.contentDir, join(dir, 'content'), { recursive: true });
    return { label, version, ms: Math.round(performance.now() - started) };
  }

  async restore(point: BackupPoint): Promise<void> {
    const dir = this.#backups.get(point.label);
    if (!dir) throw new Error(`Backup point ${point.label} is not one of this site's`);
    await this.#options.mariadb.loadDatabase(this.#options.database, join(dir, 'database.sql'));
    await rm(this.#options.contentDir, { recursive: true, force: true });
    await cp(join(dir, 'content'), this.#options.contentDir, { recursive: true });
  }

  /** Applied migrations of production's database. */
  migrationCount(): Promise<number> {
    return this.#migrationCount(this.#options.database);
  }

  /** Stops production's Ghost and removes the backup points (not the database or the content). */
  async destroy(): Promise<void> {
    await this.stopGhost();
    await Promise.all([...this.#backups.values()].map((dir) => rm(dir, { recursive: true, force: true })));
  }

  async #migrationCount(database: string): Promise<number> {
    const rows = (await this.#options.mariadb.rootQuery(`SELECT COUNT(*) AS n FROM \`${database}\`.migrations`)) as {
      n: number;
    }[];
    return Number(rows[0]?.n ?? 0);
  }

  async #tamper(database: string): Promise<void> {
    const tamper = this.tamperBeforeNextBoot;
    this.tamperBeforeNextBoot = undefined;
    await tamper?.(database);
  }
}
