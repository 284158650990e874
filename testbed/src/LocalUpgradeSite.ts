import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteCopy, UpgradeSite } from '@ghost-ha/infra/upgrade';
import { LocalGhost } from './LocalGhost.js';
import type { MariaDbServer } from './MariaDbServer.js';

export interface LocalUpgradeSiteOptions {
  mariadb: MariaDbServer;
  /** Production's database on that server. */
  database: string;
  contentDir: string;
  url: string;
  adminApiKey: string;
  /** Called on a copy's database after it is loaded and before Ghost boots: a fault to inject. */
  tamperWithCopy?: (database: string) => Promise<void>;
}

/**
 * The test bed's stand-in for the deployment's copy: the Aurora clone is a dump of production's
 * database loaded into a new database on the same MariaDB, the content copy a copy of the content
 * directory. Production is only read.
 */
export class LocalUpgradeSite implements UpgradeSite {
  readonly url: string;
  readonly adminApiKey: string;
  readonly #options: LocalUpgradeSiteOptions;

  constructor(options: LocalUpgradeSiteOptions) {
    this.#options = options;
    this.url = options.url;
    this.adminApiKey = options.adminApiKey;
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
      await this.#options.tamperWithCopy?.(database);
    } catch (error) {
      await remove();
      throw error;
    }
    const copyMs = Math.round(performance.now() - started);
    return {
      label: database,
      copyMs,
      migrationCount: async () => {
        const rows = (await mariadb.rootQuery(`SELECT COUNT(*) AS n FROM \`${database}\`.migrations`)) as {
          n: number;
        }[];
        return Number(rows[0]?.n ?? 0);
      },
      boot: async (version, timeoutMs) => {
        ghost = await LocalGhost.start({
          version,
          database: await mariadb.database(database),
          contentDir,
          bootTimeoutMs: timeoutMs,
        });
        return { url: ghost.url };
      },
      remove,
    };
  }
}
