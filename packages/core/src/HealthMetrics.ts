import { Counter, Gauge, Histogram } from 'prom-client';
import type { HealthStatus } from './Check.js';
import type { HealthObserver } from './HealthMonitor.js';
import type { Registry } from './metrics.js';

const STATUSES: readonly HealthStatus[] = ['pass', 'warn', 'fail'];

/**
 * The health model's metrics, the same four in every service under the service's prefix:
 * `<prefix>_health_status{status}`, `<prefix>_health_check_status{check,status}` (1 for the current
 * status, 0 for the others), `<prefix>_health_check_duration_seconds{check}` and
 * `<prefix>_health_checks_abandoned_total{check}`. The verdict starts as `fail`, as the report does.
 */
export class HealthMetrics implements HealthObserver {
  readonly #verdict: Gauge;
  readonly #checkStatus: Gauge;
  readonly #checkDuration: Histogram;
  readonly #abandoned: Counter;

  constructor(registry: Registry, prefix: string) {
    const registers = [registry];
    this.#verdict = new Gauge({
      name: `${prefix}_health_status`,
      help: 'The health verdict: 1 for the current status (pass, warn or fail), 0 for the others.',
      labelNames: ['status'],
      registers,
    });
    this.#checkStatus = new Gauge({
      name: `${prefix}_health_check_status`,
      help: 'Result of each check in the last round: 1 for its current status, 0 for the others.',
      labelNames: ['check', 'status'],
      registers,
    });
    this.#checkDuration = new Histogram({
      name: `${prefix}_health_check_duration_seconds`,
      help: 'How long each check took (a timed-out check counts as its timeout).',
      labelNames: ['check'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#abandoned = new Counter({
      name: `${prefix}_health_checks_abandoned_total`,
      help: 'Check runs that did not settle an interval after their timeout and were given up on.',
      labelNames: ['check'],
      registers,
    });
    this.setVerdict('fail');
  }

  setVerdict(status: HealthStatus): void {
    for (const each of STATUSES) this.#verdict.set({ status: each }, each === status ? 1 : 0);
  }

  recordCheck(check: string, status: HealthStatus, seconds: number): void {
    for (const each of STATUSES) this.#checkStatus.set({ check, status: each }, each === status ? 1 : 0);
    this.#checkDuration.observe({ check }, seconds);
  }

  recordAbandonedCheck(check: string): void {
    this.#abandoned.inc({ check });
  }
}
