import { renameSync, rmSync, writeFileSync } from 'node:fs';

/** What the watchdog file holds: the sidecar's pid, and its deadline (ms since the epoch) or null. */
export interface WatchdogState {
  readonly pid: number;
  readonly deadline: number | null;
}

/**
 * Hands the sidecar's deadline (last successful lease renewal + patience) to something outside its
 * event loop: a small file that the container health check reads; once the deadline has passed it
 * kills the sidecar (see the README's "Fencing"). A hang (SIGSTOP, a busy loop, a starved CPU) stops
 * renewals and the file's updates alike, never the check. Written atomically (rename), synchronously:
 * it is a few bytes once per renewal.
 */
export class Watchdog {
  readonly #path: string;
  readonly #now: () => number;
  readonly #wallClock: () => number;

  constructor(options: { path: string; now: () => number; wallClock?: () => number }) {
    this.#path = options.path;
    this.#now = options.now;
    this.#wallClock = options.wallClock ?? Date.now;
  }

  /** `deadline` on the monotonic clock `now`, or undefined while no Ghost of this task may run. */
  write(deadline: number | undefined): void {
    const state: WatchdogState = {
      pid: process.pid,
      deadline: deadline === undefined ? null : Math.floor(this.#wallClock() + (deadline - this.#now())),
    };
    const temporary = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, this.#path);
  }

  remove(): void {
    rmSync(this.#path, { force: true });
  }
}
