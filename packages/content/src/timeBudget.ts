import { TimeMarginError } from './errors.js';
import type { LambdaContext } from './LambdaContext.js';

/**
 * `outOfTime()` for one invocation: true once less than `marginMs` is left. A margin at or above the
 * time the invocation has left at its start would stop every run before its first step and ask to be
 * invoked again for ever, so that refuses at once, before anything is read or written.
 */
export function timeBudget(context: LambdaContext, marginMs: number, texts: { consequence: string }): () => boolean {
  const remaining = context.getRemainingTimeInMillis();
  if (remaining <= marginMs) {
    throw new TimeMarginError(
      `TIME_MARGIN_MS is ${marginMs} ms, but this invocation has only ${remaining} ms left: it could not do any ` +
        `work. Give the function a longer timeout (e.g. 900 s) or lower TIME_MARGIN_MS. ${texts.consequence}`,
    );
  }
  return () => context.getRemainingTimeInMillis() < marginMs;
}
