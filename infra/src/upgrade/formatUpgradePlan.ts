import { formatCall } from '../switch/AwsCall.js';
import { formatDuration } from '../switch/rtoOnPaper.js';
import { type UpgradePlan, writersDowntime } from './planUpgrade.js';

/** The plan as the operator reads it before anything changes: steps, who is served how, costs. */
export function formatUpgradePlan(plan: UpgradePlan): string {
  const lines = [`Upgrade Ghost ${plan.from} → ${plan.to}`, ''];
  plan.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${step.title}  (${step.id})`);
    lines.push(`   ${step.what}`);
    lines.push(`   writers: ${step.writers}; readers: ${step.readers}`);
    lines.push(`   expected: ${formatDuration(step.seconds)} (${step.basis})`);
    for (const call of step.calls ?? []) lines.push(`   call: ${formatCall(call)}`);
    lines.push('');
  });
  const down = writersDowntime(plan);
  lines.push(
    `Cost: writers get 503 for about ${formatDuration(down)}; readers are served from the mirror for that time (pages as of its last build, no member sign-in); nothing changes before step 3.`,
  );
  for (const step of plan.rollback) {
    lines.push(
      `If it fails after the backup point: ${step.title}: ${step.what}, about ${formatDuration(step.seconds)}.`,
    );
    for (const call of step.calls ?? []) lines.push(`   call: ${formatCall(call)}`);
  }
  if (plan.report) {
    lines.push(`Rehearsal report: ${plan.report.verdict.toUpperCase()} (${plan.report.startedAt}).`);
  }
  return lines.join('\n');
}
