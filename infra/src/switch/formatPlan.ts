import { formatCall } from './AwsCall.js';
import { formatDuration, rtoOnPaper } from './rtoOnPaper.js';
import type { SwitchPlan } from './SwitchStep.js';
import { stepHeading } from './stepHeading.js';

/** The plan as operators read it: ordered steps, each with its exact AWS calls and expected duration. */
export function formatPlan(plan: SwitchPlan, apply: boolean): string {
  const kind =
    plan.mode === 'planned'
      ? 'planned: Aurora switchover, no data loss'
      : 'disaster: Aurora failover allowing data loss, the old region may not answer';
  const lines = [
    plan.title ??
      `${plan.direction === 'failover' ? 'Failover' : 'Failback'}: ${plan.from.region} -> ${plan.to.region} (${kind})`,
    apply
      ? 'Applying: each step is verified before the next; the first failure stops the run.'
      : 'Plan only: nothing is changed. Run again with --apply to make these calls in this order.',
    '',
  ];
  plan.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${stepHeading(step)}  (${step.id})`);
    lines.push(`   why: ${step.why}`);
    lines.push('   calls:');
    for (const call of step.calls) lines.push(`     ${call.readOnly ? 'read ' : 'WRITE'} ${formatCall(call)}`);
    lines.push(`   verify: ${step.verify}`);
    lines.push(`   if it fails: ${step.ifFailed}`);
    lines.push(`   expected: ${formatDuration(step.expected.seconds)} (${step.expected.basis})`);
    lines.push('');
  });
  const rto = rtoOnPaper(plan);
  if (rto.steps.length === 0) {
    lines.push('RTO on paper: none, Ghost keeps serving throughout.');
    return lines.join('\n');
  }
  lines.push(
    `RTO on paper: ${formatDuration(rto.seconds)} without writes (${rto.steps.map((s) => `${s.id} ${formatDuration(s.expected.seconds)}`).join(' + ')}); cached pages are served throughout.`,
  );
  return lines.join('\n');
}
