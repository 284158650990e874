import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Output of the process is appended here, for reading when a test fails. */
  logFile: string;
}

const running = new Set<ChildProcess>();

// Whatever a test forgot to stop dies with the test process, even when it crashes.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A child process the test bed owns: started, stopped gently or killed, output kept in a file. */
export class ManagedProcess {
  readonly options: ManagedProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #log: WriteStream | undefined;

  constructor(options: ManagedProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get isRunning(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  start(): void {
    if (this.isRunning) throw new Error(`${this.options.name} is already running`);
    this.#log = createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(this.options.command, [...this.options.args], {
      cwd: this.options.cwd,
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    running.add(child);
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        running.delete(child);
        resolve(code);
      });
      child.once('error', () => {
        running.delete(child);
        resolve(null);
      });
    });
  }

  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.isRunning) return this.#closeLog();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
    await this.#closeLog();
  }

  /** SIGKILL: a crash, for tests of what survives one. */
  async kill(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
    await this.#closeLog();
  }

  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 40): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async #closeLog(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}
