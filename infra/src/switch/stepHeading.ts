import type { SwitchStep } from './SwitchStep.js';

/** A step's title as the plan and the run print it: marked `[best effort]` from its flag, never from the title. */
export function stepHeading(step: Pick<SwitchStep, 'title' | 'bestEffort'>): string {
  return `${step.title}${step.bestEffort ? ' [best effort]' : ''}`;
}
