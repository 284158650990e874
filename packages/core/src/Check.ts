/** IETF health draft status: `warn` still serves traffic, `fail` does not. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** What one check saw, in the IETF health draft's terms. */
export interface Observation {
  readonly status: HealthStatus;
  readonly observedValue?: number | string | boolean;
  readonly observedUnit?: string;
  /** Why it is not `pass`; never a stack trace or a secret. */
  readonly output?: string;
}

/** One dependency probed in the background, each round, under its own timeout. */
export interface Check {
  /** `component:measurement`, the key in the report's `checks`. */
  readonly key: string;
  readonly componentType: 'component' | 'datastore' | 'system';
  /** Must give up promptly when `signal` aborts (the round's timeout for this check). */
  run(signal: AbortSignal): Promise<Observation>;
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'pass';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}
