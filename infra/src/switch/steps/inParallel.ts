import { summarizeError } from '@ghost-ha/core';
import type { SwitchStep } from '../SwitchStep.js';

/**
 * Runs independent steps at once, as one step; each member's result carries its own time. A
 * best-effort member's failure is reported and the others go on; a best-effort member that has
 * not finished after `boundMs` (scaled like every timeout) is left to finish in the background
 * (its requests are bounded by the clients). Any other member's failure fails the step, once every
 * member has settled (a member is never left running behind a failed step).
 */
export function inParallel(id: string, title: string, members: readonly SwitchStep[], boundMs: number): SwitchStep {
  const required = members.filter((m) => !m.bestEffort);
  return {
    id,
    title,
    why: members.map((m) => `${m.id}: ${m.why}`).join(' '),
    calls: members.flatMap((m) => m.calls),
    verify: members.map((m) => `${m.id}: ${m.verify}`).join(' '),
    ifFailed:
      required.length === 1 ? (required[0]?.ifFailed ?? '') : required.map((m) => `${m.id}: ${m.ifFailed}`).join(' '),
    expected: {
      seconds: Math.max(...members.map((m) => m.expected.seconds)),
      basis: `in parallel: ${members.map((m) => m.id).join(' and ')}, the longer counts`,
    },
    members,
    ...(required.length === 0 ? { bestEffort: true } : {}),
    async run(context) {
      const seconds = (since: number) => `${((context.pacing.now() - since) / 1000).toFixed(1)} s`;
      const took = (since: number) => `[took ${seconds(since)}]`;
      const outcomes = await Promise.allSettled(
        members.map(async (member) => {
          const started = context.pacing.now();
          const child = { ...context, progress: (state: string) => context.progress(`${member.id}: ${state}`) };
          const running = member.run(child);
          if (!member.bestEffort) {
            try {
              const detail = await running;
              return `${member.id}: ${detail} ${took(started)}`;
            } catch (error) {
              const { name, message } = summarizeError(error);
              throw new Error(
                `${member.id} failed after ${seconds(started)}: ${name === 'Error' ? message : `${name}: ${message}`}`,
                {
                  cause: error,
                },
              );
            }
          }
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
            (detail) => `${member.id}: ${detail} ${took(started)}`,
            (error: unknown) => {
              const { name, message } = summarizeError(error);
              return `${member.id}: failed (${name === 'Error' ? message : `${name}: ${message}`}); going on. ${member.ifFailed} ${took(started)}`;
            },
          );
          const first = await Promise.race([outcome, bound]);
          clearTimeout(timer);
          context.progress(first);
          return first;
        }),
      );
      const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
      if (failed.length > 0) {
        const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        throw new Error(
          `${failed.map((e) => e.message).join('; ')}${done.length > 0 ? ` (meanwhile ${done.join('; ')})` : ''}`,
          { cause: failed[0] },
        );
      }
      return outcomes.map((o) => (o.status === 'fulfilled' ? o.value : '')).join('; ');
    },
  };
}
