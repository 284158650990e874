export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Shown in the timeout error. */
  what: string;
  /** Checked between attempts: a process that died ends the wait at once. */
  abortIf?: () => string | undefined;
}

/** Polls `check` until it returns a value other than undefined, or fails after the timeout. */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const aborted = options.abortIf?.();
    if (aborted) throw new Error(`${options.what}: ${aborted}`);
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
