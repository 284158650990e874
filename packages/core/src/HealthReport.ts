import type { HealthStatus, Observation } from './Check.js';

export const HEALTH_CONTENT_TYPE = 'application/health+json';

export interface CheckEntry extends Observation {
  readonly componentType: string;
  /** When the measurement was taken (ISO 8601). */
  readonly time: string;
}

/** An `application/health+json` document; `checks` holds one entry per `component:measurement`. */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly description: string;
  readonly output?: string;
  readonly checks: Readonly<Record<string, readonly CheckEntry[]>>;
}

/**
 * A report with its HTTP answers rendered once per round, so answering a probe costs no JSON work:
 * however many load balancer nodes ask, they read the same bytes.
 */
export class RenderedReport {
  readonly report: HealthReport;
  readonly httpStatus: number;
  /** The full report, for `/health`. */
  readonly fullBody: Buffer;
  /** Just the verdict, for `/health/ready`. */
  readonly verdictBody: Buffer;

  constructor(report: HealthReport) {
    this.report = report;
    this.httpStatus = report.status === 'fail' ? 503 : 200;
    this.fullBody = Buffer.from(JSON.stringify(report));
    this.verdictBody = Buffer.from(
      JSON.stringify(report.output ? { status: report.status, output: report.output } : { status: report.status }),
    );
  }
}
