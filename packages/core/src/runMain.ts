import { constants } from 'node:os';
import { ConfigError } from './errors.js';
import { createLogger, type Logger, summarizeError } from './logger.js';

/** What every entry point logs as it starts, stops and exits; the same words in every service. */
export const MAIN_LOG = {
  invalidConfiguration: 'invalid configuration',
  stopping: 'stopping',
  signalIgnored: 'already stopping; signal ignored',
  signalBeforeStart: 'signal before there was anything to stop; exiting',
  stopOverran: 'stop overran its bound',
  stopFailed: 'stop failed',
  flushOverran: 'flushing before exit overran its bound; exiting without it',
  flushFailed: 'flushing before exit failed',
  crashed: 'uncaught error; exiting',
} as const;

/** Exit code of a bad setting at start (sysexits' EX_CONFIG): ECS shows it, so it tells "fix the settings" from a crash. */
export const CONFIG_EXIT_CODE = 78;
/** Start-up failures other than configuration, a failed stop, a stop that overran its bound. */
export const FAILED_EXIT_CODE = 1;
/** Default bound on `stop`: under ECS's default 30 s stop timeout, leaving time to log and flush. */
export const DEFAULT_STOP_TIMEOUT_MS = 25_000;
/** Default bound on the flushers: exiting never hangs on them. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 500;

export type MainSignal = 'SIGTERM' | 'SIGINT';
const SIGNALS: readonly MainSignal[] = ['SIGTERM', 'SIGINT'];

/** The process-wide side effects, swapped in tests. */
export interface MainIo {
  readonly onSignal: (signal: MainSignal, listener: () => void) => void;
  readonly exit: (code: number) => void;
  readonly stderr: (text: string) => void;
  /** Runs `run` after `ms`; returns a cancel function. */
  readonly after: (ms: number, run: () => void) => () => void;
  /** An exception nothing caught, or a rejection nothing handled, anywhere in the process. */
  readonly onCrash: (listener: (error: unknown) => void) => void;
}

export type StopFunction = (signal: MainSignal) => Promise<unknown>;

export interface MainContext {
  /** Ends the process with `code`, flushers first. The first call decides the code; later ones are ignored. */
  readonly exit: (code: number) => void;
  /**
   * What SIGTERM or SIGINT calls, once, within `timeoutMs` (default `stopTimeoutMs`). When it resolves
   * the process exits 0, or with the code `main` returns if it is still running (a command).
   */
  readonly onStop: (stop: StopFunction, options?: { timeoutMs?: number }) => void;
  /** Runs before every exit, all together within `flushTimeoutMs` (the last metrics, say). */
  readonly onExit: (flush: () => unknown) => void;
  /** Fatal lines go to this logger from now on (its level is known only once the settings are read). */
  readonly useLogger: (logger: Logger) => void;
}

export interface RunMainOptions {
  /** Starts each stderr line: `<name>: <message>`. */
  readonly name: string;
  /**
   * A service starts, registers `onStop` and resolves without a value: it runs until a signal or
   * `exit`. A command resolves with its exit code when done.
   */
  readonly main: (context: MainContext) => Promise<number | undefined>;
  /** Until `useLogger`; a logger with `service: name` unless given. */
  readonly logger?: Logger;
  /** What failed when `main` rejects, for the log and stderr (default `start-up failed`). */
  readonly failure?: string;
  readonly stopTimeoutMs?: number;
  readonly flushTimeoutMs?: number;
  readonly io?: Partial<MainIo>;
}

// Timers stay referenced: a pending bound keeps the process alive until it decides the exit code,
// instead of the event loop running dry and Node exiting 0 on its own.
const PROCESS_IO: MainIo = {
  onSignal: (signal, listener) => process.on(signal, listener),
  exit: (code) => process.exit(code),
  stderr: (text) => process.stderr.write(text),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
  onCrash: (listener) => {
    process.on('uncaughtException', listener);
    process.on('unhandledRejection', listener);
  },
};

type Outcome = { ok: true; code: number | undefined } | { ok: false };

/**
 * Runs an entry point with the behaviour every deployable shares:
 * - a `ConfigError` → `<name>: <message>` on stderr (every variable with an example), a fatal log
 *   line with the problems, exit 78;
 * - any other failure of `main` → `<name>: <failure>: <message>` on stderr, a fatal log line with the
 *   summarised error (never the raw error, whose request may carry headers), exit 1;
 * - SIGTERM or SIGINT → the registered stop, once; another signal meanwhile is logged and ignored
 *   (the stop is bounded anyway, and cutting it short would cut a drain); its failure, or overrunning
 *   its bound, → exit 1. A signal before anything registered a stop exits at once with 128 + the
 *   signal's number, as a shell reports a process the signal ended;
 * - an exception nothing caught or a rejection nothing handled, at any time → a fatal log line with
 *   the summarised error and `<name>: crashed: <message>` on stderr (not Node's stack dump), exit 1;
 * - before any exit, the flushers, within a bound.
 * Resolves with the exit code once `io.exit` was called (in a real process, never).
 */
export function runMain(options: RunMainOptions): Promise<number> {
  const io: MainIo = { ...PROCESS_IO, ...options.io };
  const failure = options.failure ?? 'start-up failed';
  const flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
  let logger = options.logger ?? createLogger({ service: options.name });
  const flushers: (() => unknown)[] = [];
  const cancels: (() => void)[] = [];
  let stop: { run: StopFunction; timeoutMs: number } | undefined;
  let stopping: MainSignal | undefined;
  let exitCode: number | undefined;
  let exited: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    exited = resolve;
  });

  const exit = (code: number): void => {
    if (exitCode !== undefined) return;
    exitCode = code;
    for (const cancel of cancels.splice(0)) cancel();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      cancelBound();
      io.exit(code);
      exited(code);
    };
    const cancelBound = io.after(flushTimeoutMs, () => {
      logger.warn({ flushTimeoutMs }, MAIN_LOG.flushOverran);
      finish();
    });
    const flushed = flushers.map((flush) =>
      Promise.resolve()
        .then(flush)
        .catch((error: unknown) => logger.warn({ error: summarizeError(error) }, MAIN_LOG.flushFailed)),
    );
    void Promise.all(flushed).then(finish);
  };

  const fatal = (message: string, fields: Record<string, unknown>, line: string, code: number): void => {
    logger.fatal(fields, message);
    io.stderr(`${options.name}: ${line}\n`);
    exit(code);
  };

  const fail = (error: unknown): void => {
    if (error instanceof ConfigError) {
      fatal(MAIN_LOG.invalidConfiguration, { problems: error.problems }, error.message, CONFIG_EXIT_CODE);
      return;
    }
    const summary = summarizeError(error);
    fatal(failure, { error: summary }, `${failure}: ${summary.message}`, FAILED_EXIT_CODE);
  };

  const context: MainContext = {
    exit,
    onStop: (run, stopOptions) => {
      stop = { run, timeoutMs: stopOptions?.timeoutMs ?? options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS };
    },
    onExit: (flush) => {
      flushers.push(flush);
    },
    useLogger: (next) => {
      logger = next;
    },
  };

  const outcome: Promise<Outcome> = Promise.resolve()
    .then(() => options.main(context))
    .then(
      (code) => ({ ok: true, code }),
      (error: unknown) => {
        fail(error);
        return { ok: false };
      },
    );
  void outcome.then((result) => {
    if (result.ok && result.code !== undefined) exit(result.code);
  });

  const onSignal = (signal: MainSignal): void => {
    if (exitCode !== undefined || stopping) {
      logger.warn({ signal, stopping }, MAIN_LOG.signalIgnored);
      return;
    }
    stopping = signal;
    if (!stop) {
      logger.warn({ signal }, MAIN_LOG.signalBeforeStart);
      exit(128 + constants.signals[signal]);
      return;
    }
    const { run, timeoutMs } = stop;
    logger.info({ signal, timeoutMs }, MAIN_LOG.stopping);
    cancels.push(
      io.after(timeoutMs, () =>
        fatal(MAIN_LOG.stopOverran, { signal, timeoutMs }, `did not stop within ${timeoutMs} ms`, FAILED_EXIT_CODE),
      ),
    );
    Promise.resolve()
      .then(() => run(signal))
      .then(
        () => outcome.then((result) => result.ok && exit(result.code ?? 0)),
        (error: unknown) => {
          const summary = summarizeError(error);
          fatal(MAIN_LOG.stopFailed, { error: summary }, `stop failed: ${summary.message}`, FAILED_EXIT_CODE);
        },
      );
  };
  for (const signal of SIGNALS) io.onSignal(signal, () => onSignal(signal));
  io.onCrash((error) => {
    if (exitCode !== undefined) return;
    const summary = summarizeError(error);
    fatal(MAIN_LOG.crashed, { error: summary }, `crashed: ${summary.message}`, FAILED_EXIT_CODE);
  });

  return done;
}
