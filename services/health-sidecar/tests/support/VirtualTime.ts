import { setImmediate as realSetImmediate } from 'node:timers';

/**
 * Who a timer belongs to: one simulated process. A paused actor (SIGSTOP, a long GC pause) runs
 * nothing: its timers that fall due wait until it resumes, then fire in order, as a stopped
 * process's would. Its monotonic clock keeps running meanwhile.
 */
export class Actor {
  readonly name: string;
  paused = false;
  /** Gone for good (the process exited): its timers never fire again. */
  dead = false;
  readonly deferred: VirtualTimer[] = [];

  constructor(name: string) {
    this.name = name;
  }
}

export interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  actor: Actor | undefined;
  cancelled: boolean;
}

/** What `setTimeout` hands back while the virtual clock is installed (the calls the code makes on it). */
class TimerHandle {
  readonly timer: VirtualTimer;
  constructor(timer: VirtualTimer) {
    this.timer = timer;
  }
  unref(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  hasRef(): boolean {
    return false;
  }
}

/**
 * Discrete virtual time for one simulation: timers fire in (time, creation) order, and after each
 * one every promise it set off settles (one real `setImmediate`) before the next, so a run depends
 * on its schedule only. `install()` puts it behind the global `setTimeout`/`clearTimeout` (the code
 * under test and `boundedQuery` use those); a timer belongs to the actor whose code set it.
 */
export class VirtualTime {
  now = 0;
  /** Whose code runs now; undefined: the simulated environment (servers, ECS). */
  current: Actor | undefined;
  fired = 0;
  readonly #queue: VirtualTimer[] = [];
  #seq = 0;
  #restore: (() => void) | undefined;

  schedule(actor: Actor | undefined, delayMs: number, fn: () => void): VirtualTimer {
    const timer: VirtualTimer = {
      at: this.now + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      actor,
      cancelled: false,
    };
    this.#push(timer);
    return timer;
  }

  pause(actor: Actor): void {
    actor.paused = true;
  }

  resume(actor: Actor): void {
    if (!actor.paused || actor.dead) return;
    actor.paused = false;
    // What fell due meanwhile fires now, in its original order.
    for (const timer of actor.deferred.splice(0)) {
      timer.at = this.now;
      this.#push(timer);
    }
  }

  kill(actor: Actor): void {
    actor.dead = true;
    actor.paused = true;
    actor.deferred.length = 0;
  }

  /** Runs every timer due up to `until`; resolves with the clock at `until`. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.#queue[0];
      if (!next || next.at > until) break;
      this.#queue.shift();
      if (next.cancelled) continue;
      if (next.actor?.dead) continue;
      this.now = Math.max(this.now, next.at);
      if (next.actor?.paused) {
        next.actor.deferred.push(next);
        continue;
      }
      this.current = next.actor;
      this.fired++;
      next.fn();
      await settle();
      this.current = undefined;
    }
    this.now = Math.max(this.now, until);
  }

  /** Runs `fn` as `actor` (its timers are its own), then lets its promises settle. */
  async as<T>(actor: Actor | undefined, fn: () => T): Promise<T> {
    const before = this.current;
    this.current = actor;
    try {
      const result = fn();
      await settle();
      return result;
    } finally {
      this.current = before;
    }
  }

  install(): void {
    const saved = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      stackTraceLimit: Error.stackTraceLimit,
    };
    // Thousands of simulated connection errors: their stack traces would cost more than the run.
    Error.stackTraceLimit = 0;
    const setVirtual = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      new TimerHandle(this.schedule(this.current, ms ?? 0, () => fn(...args)));
    const clearVirtual = (handle: unknown) => {
      if (handle instanceof TimerHandle) handle.timer.cancelled = true;
    };
    globalThis.setTimeout = setVirtual as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = clearVirtual as unknown as typeof globalThis.clearTimeout;
    this.#restore = () => {
      globalThis.setTimeout = saved.setTimeout;
      globalThis.clearTimeout = saved.clearTimeout;
      Error.stackTraceLimit = saved.stackTraceLimit;
    };
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  #push(timer: VirtualTimer): void {
    // Binary insertion: the queue stays ordered by (at, seq).
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#queue[mid] as VirtualTimer;
      if (other.at < timer.at || (other.at === timer.at && other.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, timer);
  }
}

/** Every promise reaction already queued runs before a real `setImmediate` callback. */
function settle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}
