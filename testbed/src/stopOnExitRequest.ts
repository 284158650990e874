/** What asked the process to end. */
export type ExitRequest = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'parent gone';

export interface StopOnExitRequestOptions {
  /** How often to check that the parent process still exists. Default 500 ms. */
  parentPollMs?: number;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Runs `stop` once when this process is asked to end: Ctrl-C (SIGINT), SIGTERM (a process manager,
 * `timeout`), SIGHUP (the terminal closed), or its parent process ending (then the kernel re-parents
 * this one, which no signal announces, so the parent pid is polled). When `stop` has finished the
 * process exits; a second signal while stopping exits at once, and the test bed's ManagedProcess
 * kills every child still running on exit.
 */
export function stopOnExitRequest(
  stop: (request: ExitRequest) => Promise<void>,
  options: StopOnExitRequestOptions = {},
): void {
  const parentPid = process.ppid;
  let stopping = false;

  const request = (reason: ExitRequest): void => {
    if (stopping) {
      if (reason !== 'parent gone') process.exit(128 + SIGNAL_NUMBERS[reason]);
      return;
    }
    stopping = true;
    clearInterval(parentWatch);
    stop(reason).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Stopping failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };

  // Once the terminal is gone, writing to it fails; that must not end the process before `stop` has.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  for (const signal of SIGNALS) process.on(signal, () => request(signal));
  const parentWatch = setInterval(() => {
    if (process.ppid !== parentPid) request('parent gone');
  }, options.parentPollMs ?? 500);
  parentWatch.unref();
}
