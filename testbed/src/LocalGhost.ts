import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';
import { GhostServer } from './GhostServer.js';
import { ManagedProcess } from './ManagedProcess.js';
import type { DatabaseSettings } from './MariaDbServer.js';
import { waitFor } from './waitFor.js';

export interface LocalGhostOptions {
  /** The release, named by the caller (an upgrade test runs two; GHOST_VERSION does not choose). */
  version: string;
  database: DatabaseSettings;
  /** A content directory that outlives this Ghost (production's, or a copy of it). */
  contentDir: string;
  /** The site url Ghost renders links with; default its own address. */
  url?: string;
  port?: number;
  bootTimeoutMs?: number;
}

/**
 * One Ghost release on a given database and content directory, for tests that run several
 * releases on the same site one after another (an upgrade and its rollback): the instance
 * directory is its own, the data is not. It boots and waits for the Admin API to answer.
 */
export class LocalGhost {
  readonly version: string;
  readonly url: string;
  readonly port: number;
  readonly #dir: string;
  readonly #process: ManagedProcess;

  private constructor(version: string, url: string, port: number, dir: string, process: ManagedProcess) {
    this.version = version;
    this.url = url;
    this.port = port;
    this.#dir = dir;
    this.#process = process;
  }

  /** Lays out and boots the release; throws with its log's tail when it exits or does not answer. */
  static async start(options: LocalGhostOptions): Promise<LocalGhost> {
    const dir = await mkdtemp(join(tmpdir(), 'ghost-ha-local-ghost-'));
    const port = options.port ?? (await freePort());
    const url = options.url ?? `http://127.0.0.1:${port}`;
    const launch = await GhostServer.layOut({
      version: options.version,
      dir,
      contentDir: options.contentDir,
      port,
      url,
      database: options.database,
    });
    const temporary = join(dir, 'tmp');
    await mkdir(temporary, { recursive: true });
    const managed = new ManagedProcess({
      name: `ghost-${options.version}`,
      command: launch.command,
      args: launch.args,
      cwd: launch.cwd,
      env: { ...process.env, TMPDIR: temporary, ...launch.env },
      logFile: join(dir, 'ghost.log'),
    });
    const ghost = new LocalGhost(options.version, url, port, dir, managed);
    managed.start();
    try {
      await waitFor(
        async () => {
          const response = await fetch(`${url}/ghost/api/admin/site/`, { redirect: 'manual' });
          return response.status === 200 ? true : undefined;
        },
        {
          what: `Ghost ${options.version} to boot`,
          timeoutMs: options.bootTimeoutMs ?? 300_000,
          intervalMs: 250,
          abortIf: () => (managed.isRunning ? undefined : `Ghost exited: ${errorsIn(managed.tail(400))}`),
        },
      );
    } catch (error) {
      await ghost.destroy();
      throw error;
    }
    return ghost;
  }

  get isRunning(): boolean {
    return this.#process.isRunning;
  }

  /** The last lines of Ghost's log. */
  tail(lines = 40): string {
    return this.#process.tail(lines);
  }

  /** SIGTERM, as ECS stops a task; the data stays. */
  async stop(): Promise<void> {
    await this.#process.stop(15_000);
  }

  /** Stops Ghost at once and removes its instance directory (not the content or the database). */
  async destroy(): Promise<void> {
    await this.#process.kill();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * What Ghost logged as errors (a failed migration names its table and statement), without colours,
 * for the exception that says why it exited; the log's last lines when it logged none.
 */
function errorsIn(log: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes are the escape character.
  const lines = log.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const errors = lines.filter((line) => /\bERROR\b|Error:|\bER_[A-Z_]+/.test(line));
  const picked = errors.length ? [...new Set(errors)].slice(0, 6) : lines.slice(-15);
  return picked.map((line) => line.trim().slice(0, 400)).join('\n');
}
