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

/**
 * Calls `check` until it returns `{ done: true }`; `state` describes what was seen, for progress
 * and for the timeout's message. Errors from `check` propagate at once.
 */
export async function poll(
  what: string,
  timeoutMs: number,
  pacing: Pacing,
  check: () => Promise<{ done: boolean; state: string }>,
  onProgress: (state: string) => void = () => {},
): Promise<string> {
  const deadline = pacing.now() + timeoutMs * pacing.timeoutScale;
  let last = '';
  for (;;) {
    const { done, state } = await check();
    if (state !== last) onProgress(state);
    last = state;
    if (done) return state;
    if (pacing.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs * pacing.timeoutScale, state);
    await pacing.sleep(pacing.intervalMs);
  }
}
