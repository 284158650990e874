import { summarizeError } from '@ghost-ha/core';
import type { SwitchStep } from '../SwitchStep.js';

/**
 * Runs independent steps at once, as one step. A best-effort member's failure is reported and the
 * others go on; a best-effort member that has not finished after `boundMs` (scaled like every
 * timeout) is left to finish in the background (its requests are bounded by the clients). Any
 * other member's failure fails the step.
 */
export function inParallel(id: string, title: string, members: readonly SwitchStep[], boundMs: number): SwitchStep {
  return {
    id,
    title,
    why: members.map((m) => `${m.id}: ${m.why}`).join(' '),
    calls: members.flatMap((m) => m.calls),
    verify: members.map((m) => `${m.id}: ${m.verify}`).join(' '),
    ifFailed: members
      .filter((m) => !m.bestEffort)
      .map((m) => m.ifFailed)
      .join(' '),
    expected: {
      seconds: Math.max(...members.map((m) => m.expected.seconds)),
      basis: `in parallel: ${members.map((m) => m.id).join(' and ')}, the longer counts`,
    },
    async run(context) {
      const results = await Promise.all(
        members.map(async (member) => {
          const child = { ...context, progress: (state: string) => context.progress(`${member.id}: ${state}`) };
          const running = member.run(child);
          if (!member.bestEffort) return `${member.id}: ${await running}`;
          let timer: NodeJS.Timeout | undefined;
          const bound = new Promise<string>((resolve) => {
            timer = setTimeout(
              () =>
                resolve(
                  `${member.id}: no answer within ${Math.round(boundMs * context.pacing.timeoutScale)} ms; going on`,
                ),
              boundMs * context.pacing.timeoutScale,
            );
          });
          const outcome = running.then(
            (detail) => `${member.id}: ${detail}`,
            (error: unknown) => {
              const { name, message } = summarizeError(error);
              return `${member.id}: failed (${name === 'Error' ? message : `${name}: ${message}`}); going on. ${member.ifFailed}`;
            },
          );
          const first = await Promise.race([outcome, bound]);
          clearTimeout(timer);
          context.progress(first);
          return first;
        }),
      );
      return results.join('; ');
    },
  };
}
