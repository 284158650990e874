import { readFileSync } from 'node:fs';

/** What asked the process to end. */
export type ExitRequest = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'parent gone';

export interface StopOnExitRequestOptions {
  /** How often to check that the processes that started this one still exist. Default 500 ms. */
  parentPollMs?: number;
  /** How many ancestors to watch (parent, grandparent, …). Default 3. */
  ancestorDepth?: number;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** A process as Linux names it: its pid and its start time, so a reused pid is not mistaken for it. */
interface ProcessIdentity {
  pid: number;
  startTime: string;
}

/** `/proc/<pid>/stat`'s parent pid and start time; undefined when the process is gone (or no /proc). */
function readStat(pid: number): { parent: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** This process's ancestors, nearest first, up to `depth`, never init. */
function ancestorsOf(depth: number): ProcessIdentity[] {
  const ancestors: ProcessIdentity[] = [];
  let pid = process.ppid;
  while (ancestors.length < depth && pid > 1) {
    const stat = readStat(pid);
    if (!stat) break;
    ancestors.push({ pid, startTime: stat.startTime });
    pid = stat.parent;
  }
  return ancestors;
}

function isGone(ancestor: ProcessIdentity): boolean {
  return readStat(ancestor.pid)?.startTime !== ancestor.startTime;
}

/**
 * Runs `stop` once when this process is asked to end: Ctrl-C (SIGINT), SIGTERM (a process manager,
 * `timeout`), SIGHUP (the terminal closed), or a process that started it ending. No signal announces
 * the last, so the ancestors are polled: not only the parent, because `npm run` starts a script
 * through `sh -c`, and when npm itself is killed that shell lives on, waiting for this process.
 * When `stop` has finished the process exits; a second signal while stopping exits at once, and the
 * test bed's ManagedProcess kills every child still running on exit.
 */
export function stopOnExitRequest(
  stop: (request: ExitRequest) => Promise<void>,
  options: StopOnExitRequestOptions = {},
): void {
  const parentPid = process.ppid;
  const ancestors = ancestorsOf(options.ancestorDepth ?? 3);
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
    if (process.ppid !== parentPid || ancestors.some(isGone)) request('parent gone');
  }, options.parentPollMs ?? 500);
  parentWatch.unref();
}
