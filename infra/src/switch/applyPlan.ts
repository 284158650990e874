import { summarizeError } from '@ghost-ha/core';
import { StepFailedError } from '../errors.js';
import type { AwsClients } from './AwsClients.js';
import type { Pacing } from './poll.js';
import { formatDuration } from './rtoOnPaper.js';
import type { SwitchFacts, SwitchPlan } from './SwitchStep.js';
import { stepHeading } from './stepHeading.js';

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
  const started = pacing.now();
  const took = (since: number) => `${((pacing.now() - since) / 1000).toFixed(1)} s`;
  for (const [index, step] of plan.steps.entries()) {
    const stepStarted = pacing.now();
    const label = `${index + 1}/${plan.steps.length} ${step.id}`;
    report(
      `${label}: ${stepHeading(step)} (expected ${formatDuration(step.expected.seconds)}: ${step.expected.basis})`,
    );
    try {
      const detail = await step.run({ clients, pacing, facts, progress: (state) => report(`${label}:   ${state}`) });
      report(`${label}: ok, ${detail} [took ${took(stepStarted)}]`);
      outcomes.push({ id: step.id, status: 'done', detail });
    } catch (error) {
      const { name, message } = summarizeError(error);
      const reason = name === 'Error' ? message : `${name}: ${message}`;
      if (step.bestEffort) {
        report(`${label}: failed (${reason}); going on. ${step.ifFailed} [took ${took(stepStarted)}]`);
        outcomes.push({ id: step.id, status: 'skipped-failure', detail: reason });
        continue;
      }
      throw new StepFailedError(
        step.id,
        `Step ${label} failed after ${took(stepStarted)} (${took(started)} since the start): ${reason}`,
        step.ifFailed,
        { cause: error },
      );
    }
  }
  report(`All ${plan.steps.length} steps done in ${took(started)}.`);
  return outcomes;
}
