import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Env } from '@ghost-ha/core';
import {
  type DatabaseSettings,
  freePort,
  healthSidecarEnv,
  type MariaDbServer,
  makeTemporaryDirectory,
  REPO_ROOT,
  waitFor,
} from '@ghost-ha/testbed';

const run = promisify(execFile);

/** The test bed's mariadbd for this port (its own process, found by its --port argument). */
export async function mariadbPid(port: number): Promise<number> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  const line = stdout.split('\n').find((l) => l.includes('mariadbd') && l.includes(`--port=${port} `));
  const pid = Number(line?.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no mariadbd on port ${port}`);
  return pid;
}

/** Connections the application user has open on the server right now (server side, by the server). */
export async function openConnections(mariadb: MariaDbServer, user: string): Promise<number> {
  const rows = (await mariadb.rootQuery('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [
    user,
  ])) as { n: number | string }[];
  return Number(rows[0]?.n ?? 0);
}

/** TCP sockets this process holds open (client side). */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

/**
 * A sidecar environment without a Ghost (nothing listens at GHOST_URL: Ghost counts as stopped) and
 * with fast rounds; the lock, the lease and their faults are what these tests are about.
 */
export async function lockOnlyEnv(database: DatabaseSettings, extra: Env = {}): Promise<Env> {
  const target = {
    ghostUrl: `http://127.0.0.1:${await freePort()}`,
    contentPath: await makeTemporaryDirectory('sidecar-content-'),
    database,
  };
  return healthSidecarEnv(target, {
    DISK_FREE_WARN_MB: '0',
    LOCK_WAIT_SECONDS: '1',
    LOCK_RETRY_DELAY_MS: '200',
    STOP_TIMEOUT_MS: '5000',
    DRAIN_TIMEOUT_MS: '1000',
    GHOST_STOP_WAIT_MS: '1000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
    ...extra,
  });
}

/** The real entry point as its own process (so it can be SIGSTOPped or SIGKILLed like a task). */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly healthPort: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #output = '';

  private constructor(child: ChildProcess, healthPort: number) {
    this.child = child;
    this.healthPort = healthPort;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(env: Env): Promise<SidecarProcess> {
    const healthPort = await freePort();
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'services/health-sidecar/src/main.ts'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, HEALTH_PORT: String(healthPort) } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new SidecarProcess(child, healthPort);
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until `/health/startup` passes: this task's Ghost may run. */
  async waitUntilHolding(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${this.healthPort}/health/startup`);
        return response.status === 200 ? true : undefined;
      },
      {
        what: 'the sidecar process to hold the lock',
        timeoutMs,
        intervalMs: 100,
        abortIf: () => (this.running ? undefined : `it exited:\n${this.#output.slice(-2000)}`),
      },
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid !== undefined) process.kill(this.child.pid, signal);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
