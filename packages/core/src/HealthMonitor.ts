import { type Check, type HealthStatus, type Observation, worstStatus } from './Check.js';
import { CheckTimeoutError } from './errors.js';
import { type CheckEntry, type HealthReport, RenderedReport } from './HealthReport.js';
import { type Logger, summarizeError } from './logger.js';

/** Where each round's results go besides the report (a service's metrics). */
export interface HealthObserver {
  recordCheck(check: string, status: HealthStatus, seconds: number): void;
  recordAbandonedCheck(check: string): void;
  setVerdict(status: HealthStatus): void;
}

export interface HealthMonitorOptions {
  checks: readonly Check[];
  /** The report's `description`: which service and what it judges. */
  description: string;
  intervalMs: number;
  timeoutMs: number;
  now: () => number;
  observer?: HealthObserver;
  logger: Logger;
}

/** Log messages of verdict and check changes, for anyone searching or filtering logs on them. */
export const HEALTH_LOG = {
  verdictChanged: 'verdict changed',
  checkPasses: 'check passes',
  checkWarns: 'check warns',
  checkFails: 'check fails',
  checkAbandoned: 'check did not settle after its abort; starting it afresh',
  roundFailed: 'health round failed',
} as const;

/** Unsettled runs a check may leave behind before the monitor waits for them instead of starting more. */
const MAX_ABANDONED = 2;

/**
 * Runs every check in the background, all at once each round, each under its own timeout, and keeps
 * the last completed round rendered. HTTP handlers only read `current`: probes from any number of
 * load balancer nodes never reach the dependencies being checked.
 */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, CheckEntry>();
  /** Runs that outlived their timeout and were aborted, by check, with when they started. */
  readonly #stillRunning = new Map<string, { since: number }>();
  /** Aborted runs given up on that have still not settled, by check (each may hold a thread or socket). */
  readonly #abandoned = new Map<string, number>();
  #current: RenderedReport;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #draining: string | undefined;
  #round: Promise<void> | undefined;
  #checked: HealthStatus = 'fail';
  readonly #checkedListeners = new Set<(status: HealthStatus) => void>();

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'HealthMonitor' });
    this.#current = new RenderedReport({
      status: 'fail',
      description: options.description,
      output: 'no check round has completed yet',
      checks: {},
    });
  }

  /** The last completed round's report (with the drain state applied). */
  get current(): RenderedReport {
    return this.#current;
  }

  /**
   * Calls `listener` each time the checks' verdict changes, right as the round completes (draining
   * aside, which is no fault of Ghost's); returns the unsubscribe function.
   */
  onVerdictChange(listener: (status: HealthStatus) => void): () => void {
    this.#checkedListeners.add(listener);
    return () => this.#checkedListeners.delete(listener);
  }

  /** Starts the first round now and the next ones every interval. */
  start(): void {
    this.#stopped = false;
    void this.#loop();
  }

  /** From now on the verdict is `fail`, whatever the checks say: the task is going away. */
  setDraining(output = 'shutting down'): void {
    this.#draining = output;
    this.#render();
  }

  /** Runs one round of every check and publishes it. */
  async runRound(): Promise<RenderedReport> {
    const round = Promise.all(this.#options.checks.map((check) => this.#runOne(check))).then(() => this.#render());
    this.#round = round;
    await round;
    return this.#current;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round?.catch(() => undefined);
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    const started = Date.now();
    try {
      await this.runRound();
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, HEALTH_LOG.roundFailed);
    }
    if (this.#stopped) return;
    const wait = Math.max(0, this.#options.intervalMs - (Date.now() - started));
    this.#timer = setTimeout(() => void this.#loop(), wait);
  }

  async #runOne(check: Check): Promise<void> {
    const { now, timeoutMs, observer } = this.#options;
    const started = now();
    let observation: Observation;
    const running = this.#stillRunning.get(check.key);
    if (running && !this.#abandon(check.key, running.since, started)) {
      observation = {
        status: 'fail',
        output: `still running since an earlier round (${Math.round(started - running.since)} ms, limit ${timeoutMs} ms)`,
      };
    } else {
      observation = await this.#runWithTimeout(check);
    }
    const elapsedMs = now() - started;
    observer?.recordCheck(check.key, observation.status, Math.min(elapsedMs, timeoutMs) / 1000);
    const previous = this.#entries.get(check.key);
    if (previous?.status !== observation.status) {
      const fields = {
        check: check.key,
        status: observation.status,
        was: previous?.status,
        output: observation.output,
      };
      if (observation.status === 'pass') this.#log.info(fields, HEALTH_LOG.checkPasses);
      else this.#log.warn(fields, observation.status === 'warn' ? HEALTH_LOG.checkWarns : HEALTH_LOG.checkFails);
    }
    this.#entries.set(check.key, {
      componentType: check.componentType,
      ...observation,
      time: new Date(now()).toISOString(),
    });
  }

  /**
   * An aborted run should settle at once (every database query destroys its socket on abort). One
   * that has not settled a whole interval after its timeout is given up on and the check starts
   * afresh, so a verdict never sticks at "still running"; but at most MAX_ABANDONED such runs per
   * check are left behind (a hung volume holds a thread per run), after which it waits for them.
   */
  #abandon(key: string, since: number, now: number): boolean {
    const { timeoutMs, intervalMs } = this.#options;
    if (now - since < timeoutMs + intervalMs) return false;
    const abandoned = this.#abandoned.get(key) ?? 0;
    if (abandoned >= MAX_ABANDONED) return false;
    this.#abandoned.set(key, abandoned + 1);
    this.#stillRunning.delete(key);
    this.#options.observer?.recordAbandonedCheck(key);
    this.#log.warn({ check: key, ms: now - since }, HEALTH_LOG.checkAbandoned);
    return true;
  }

  async #runWithTimeout(check: Check): Promise<Observation> {
    const { timeoutMs, now } = this.#options;
    const controller = new AbortController();
    const since = now();
    const running = check.run(controller.signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const winner = await Promise.race([running, timedOut]);
      if (winner !== 'timeout') return winner;
      controller.abort(new CheckTimeoutError(check.key, timeoutMs));
      const entry = { since };
      this.#stillRunning.set(check.key, entry);
      void running
        .catch(() => undefined)
        .finally(() => {
          if (this.#stillRunning.get(check.key) === entry) this.#stillRunning.delete(check.key);
          else this.#abandoned.set(check.key, Math.max(0, (this.#abandoned.get(check.key) ?? 1) - 1));
        });
      return { status: 'fail', output: `no answer within ${timeoutMs} ms` };
    } catch (error) {
      const summary = summarizeError(error);
      return { status: 'fail', output: `${summary.name}: ${summary.message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  #render(): void {
    const checks: Record<string, CheckEntry[]> = {};
    for (const [key, entry] of this.#entries) checks[key] = [entry];
    const checked = this.#entries.size > 0 ? worstStatus([...this.#entries.values()].map((e) => e.status)) : 'fail';
    const status = this.#draining !== undefined ? 'fail' : checked;
    const output =
      this.#draining ?? (this.#entries.size === 0 ? 'no check round has completed yet' : failingOutput(this.#entries));
    const report: HealthReport = {
      status,
      description: this.#options.description,
      ...(output ? { output } : {}),
      checks,
    };
    if (status !== this.#current.report.status)
      this.#log.info({ status, was: this.#current.report.status, output }, HEALTH_LOG.verdictChanged);
    this.#current = new RenderedReport(report);
    this.#options.observer?.setVerdict(status);
    if (checked !== this.#checked) {
      this.#checked = checked;
      for (const listener of this.#checkedListeners) listener(checked);
    }
  }
}

/** The reasons of failing (else warning) checks, so `/health/ready` says why in one line. */
function failingOutput(entries: ReadonlyMap<string, CheckEntry>): string | undefined {
  for (const wanted of ['fail', 'warn'] as const) {
    const reasons = [...entries]
      .filter(([, e]) => e.status === wanted)
      .map(([key, e]) => `${key}: ${e.output ?? wanted}`);
    if (reasons.length > 0) return reasons.join('; ');
  }
  return undefined;
}
