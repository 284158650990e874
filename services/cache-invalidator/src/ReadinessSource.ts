import type { RenderedReport } from '@ghost-ha/core';

/** What `/health` and `/health/ready` need: the last completed round of the readiness checks. */
export interface ReadinessSource {
  readonly health: RenderedReport;
}
