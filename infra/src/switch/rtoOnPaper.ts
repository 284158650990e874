import type { SwitchPlan, SwitchStep } from './SwitchStep.js';

export interface RtoOnPaper {
  /** The steps during which the site takes no writes, in order. */
  readonly steps: readonly SwitchStep[];
  readonly seconds: number;
}

/**
 * The expected time without a writable site, from the steps' documented durations: planned, from
 * stopping Ghost until CloudFront sends writes to the new region; disaster, the whole run up to
 * that point (the site went down before it started). Cached pages are served throughout.
 */
export function rtoOnPaper(plan: SwitchPlan): RtoOnPaper {
  // A step run in parallel with others is found inside its group.
  const has = (step: SwitchStep, test: (id: string) => boolean) =>
    test(step.id) || (step.members ?? []).some((m) => test(m.id));
  const first = plan.mode === 'planned' ? plan.steps.findIndex((s) => has(s, (id) => id.startsWith('stop-ghost-'))) : 0;
  // Writable once Ghost runs in the target and CloudFront sends writes there, whichever is later.
  const last = Math.max(
    plan.steps.findIndex((s) => has(s, (id) => id === 'switch-cloudfront')),
    plan.steps.findIndex((s) => has(s, (id) => id === `start-ghost-${plan.to.region}`)),
  );
  const steps = plan.steps.slice(first, last + 1);
  return { steps, seconds: steps.reduce((sum, s) => sum + s.expected.seconds, 0) };
}

/** `2 min`, `45 s`, `1 h 5 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 600 && seconds % 60 !== 0) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
