import { WaitTimeoutError } from '../errors.js';

/** Clock and pacing of the waits, swapped by tests. */
export interface Pacing {
  readonly intervalMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Multiplies every step's timeout (tests use a small one). */
  readonly timeoutScale: number;
}

export const REAL_PACING: Pacing = {
  intervalMs: 15_000,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutScale: 1,
};

export interface PollOptions {
  /**
   * Errors of `check` that say nothing about what is waited for (an API that did not answer this
   * time): the wait goes on until its deadline, with the error as the state seen.
   */
  readonly transient?: (error: unknown) => boolean;
}

/**
 * Calls `check` until it returns `{ done: true }`; `state` describes what was seen, for progress
 * and for the timeout's message. Errors from `check` propagate at once, but those `transient` accepts.
 */
export async function poll(
  what: string,
  timeoutMs: number,
  pacing: Pacing,
  check: () => Promise<{ done: boolean; state: string }>,
  onProgress: (state: string) => void = () => {},
  options: PollOptions = {},
): Promise<string> {
  const deadline = pacing.now() + timeoutMs * pacing.timeoutScale;
  let last = '';
  for (;;) {
    const { done, state } = await check().catch((error: unknown) => {
      if (!options.transient?.(error)) throw error;
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      return { done: false, state: `no answer (${name}: ${message.split('\n')[0]})` };
    });
    if (state !== last) onProgress(state);
    last = state;
    if (done) return state;
    if (pacing.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs * pacing.timeoutScale, state);
    await pacing.sleep(pacing.intervalMs);
  }
}
