import { spawn } from 'node:child_process';
import type { HealthCheckDefinition } from './TaskDefinition.js';

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';

export interface ContainerHealthCheckOptions {
  definition: HealthCheckDefinition;
  /** The container's environment: the command runs inside the container, with its variables. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  onChange: (status: HealthStatus, output: string) => void;
  now?: () => number;
}

/**
 * A container health check with Docker's semantics, which ECS uses: the first probe runs one
 * interval after the container started, then one every interval; a probe that outlives the timeout
 * fails; failures during the start period do not count until a probe has passed (a success ends
 * the start period: ECS and Docker count every failure after it); `retries` consecutive counted
 * failures make it UNHEALTHY, and a success makes it HEALTHY again.
 */
export class ContainerHealthCheck {
  readonly #options: ContainerHealthCheckOptions;
  readonly #startedAt: number;
  #status: HealthStatus = 'UNKNOWN';
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastOutput = '';
  #passedOnce = false;

  constructor(options: ContainerHealthCheckOptions) {
    this.#options = options;
    this.#startedAt = (options.now ?? Date.now)();
    this.#schedule();
  }

  get status(): HealthStatus {
    return this.#status;
  }

  get lastOutput(): string {
    return this.#lastOutput;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), this.#options.definition.intervalSeconds * 1000);
  }

  async #probe(): Promise<void> {
    const { definition } = this.#options;
    const { ok, output } = await this.#run();
    if (this.#stopped) return;
    this.#lastOutput = output;
    const inStartPeriod =
      !this.#passedOnce && (this.#options.now ?? Date.now)() - this.#startedAt < definition.startPeriodSeconds * 1000;
    if (ok) {
      this.#passedOnce = true;
      this.#failures = 0;
      this.#set('HEALTHY');
    } else if (!inStartPeriod) {
      this.#failures += 1;
      if (this.#failures >= definition.retries) this.#set('UNHEALTHY');
    }
    this.#schedule();
  }

  #set(status: HealthStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#options.onChange(status, this.#lastOutput);
  }

  #run(): Promise<{ ok: boolean; output: string }> {
    const [kind, ...rest] = this.#options.definition.command;
    const [command, args] =
      kind === 'CMD-SHELL' ? ['/bin/sh', ['-c', rest.join(' ')]] : [rest[0] ?? 'false', rest.slice(1)];
    if (kind !== 'CMD' && kind !== 'CMD-SHELL') {
      return Promise.resolve({ ok: false, output: `unsupported health check form '${kind}'` });
    }
    return new Promise((resolve) => {
      const child = spawn(command, args, { env: this.#options.env, cwd: this.#options.cwd, stdio: 'pipe' });
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-500);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ ok: false, output: `timed out after ${this.#options.definition.timeoutSeconds} s` });
      }, this.#options.definition.timeoutSeconds * 1000);
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, output: error.message });
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ ok: code === 0, output: output.trim() || `exit code ${code}` });
      });
    });
  }
}
