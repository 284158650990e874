import { summarizeError } from '@ghost-ha/core';
import { StepFailedError } from '../errors.js';
import type { AwsClients } from './AwsClients.js';
import type { Pacing } from './poll.js';
import { formatDuration } from './rtoOnPaper.js';
import type { SwitchFacts, SwitchPlan } from './SwitchStep.js';

export interface StepOutcome {
  readonly id: string;
  readonly status: 'done' | 'skipped-failure';
  readonly detail: string;
}

/**
 * Runs the steps in order. A failed step stops the run with a StepFailedError that carries what to
 * do next; a best-effort step's failure is reported and the run goes on.
 */
export async function applyPlan(
  plan: SwitchPlan,
  clients: AwsClients,
  pacing: Pacing,
  report: (line: string) => void,
): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  const facts: SwitchFacts = {};
  for (const [index, step] of plan.steps.entries()) {
    const label = `${index + 1}/${plan.steps.length} ${step.id}`;
    report(`${label}: ${step.title} (expected ${formatDuration(step.expected.seconds)}: ${step.expected.basis})`);
    try {
      const detail = await step.run({ clients, pacing, facts, progress: (state) => report(`${label}:   ${state}`) });
      report(`${label}: ok, ${detail}`);
      outcomes.push({ id: step.id, status: 'done', detail });
    } catch (error) {
      const { name, message } = summarizeError(error);
      const reason = name === 'Error' ? message : `${name}: ${message}`;
      if (step.bestEffort) {
        report(`${label}: failed (${reason}); going on. ${step.ifFailed}`);
        outcomes.push({ id: step.id, status: 'skipped-failure', detail: reason });
        continue;
      }
      throw new StepFailedError(step.id, `Step ${label} failed: ${reason}`, step.ifFailed, { cause: error });
    }
  }
  return outcomes;
}
