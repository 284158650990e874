/** The readiness verdict and each check behind it, as `/health/ready` serves them. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, { status: 'pass' | 'fail'; detail?: unknown }>;
}

/** What `/health/ready` needs. */
export interface ReadinessSource {
  readiness(): Promise<Readiness>;
}
