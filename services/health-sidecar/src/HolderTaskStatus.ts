import type { DescribeTasksCommandInput, DescribeTasksCommandOutput } from '@aws-sdk/client-ecs';
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { type Logger, summarizeError } from '@ghost-ha/core';

/** Ghost's container in the task definition: its stop is what the lease promises. */
export const GHOST_CONTAINER = 'ghost';

/** The part of an ECS client this needs (an `ECSClient`; tests pass a client on a local endpoint). */
export interface EcsDescribeClient {
  send(command: DescribeTasksCommand, options?: { abortSignal?: AbortSignal }): Promise<DescribeTasksCommandOutput>;
}

/**
 * What ECS says about a lease holder's task: `stopped` only on positive evidence, else `unknown`
 * (not a task ARN of this cluster, not found, throttled, unreachable, timed out, still running).
 */
export type HolderTaskVerdict = 'stopped' | 'unknown';

/**
 * The task ARN in a lease holder id (`<task ARN>#<suffix>`, see `resolveHolderId`), when it is a
 * task of `cluster` (a name, or its ARN). Anything else (a host name, another cluster) is undefined.
 */
export function holderTaskArn(holder: string, cluster: string): string | undefined {
  const arn = holder.replace(/#[0-9a-f]+$/, '');
  // arn:aws:ecs:<region>:<account>:task/<cluster>/<id> (the long ARN format, the only one since 2021).
  const match = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/([A-Za-z0-9_-]{1,255})\/[A-Za-z0-9]+[A-Za-z0-9-]*$/.exec(
    arn,
  );
  if (!match) return undefined;
  const clusterName = cluster.replace(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\//, '');
  return match[1] === clusterName ? arn : undefined;
}

/**
 * Asks ECS (`DescribeTasks`) whether a lease holder's task has stopped: the task's `lastStatus` is
 * `STOPPED`, or the task is on its way out (`desiredStatus` `STOPPED`) and its `ghost` container's
 * `lastStatus` is `STOPPED` (a container of a task ECS is stopping is never started again).
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
 * Any doubt is `unknown`, and the caller falls back to the lease's TTL.
 */
export class HolderTaskStatus {
  readonly #client: EcsDescribeClient;
  readonly #cluster: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #lastProblem = '';

  constructor(options: { client: EcsDescribeClient; cluster: string; timeoutMs: number; logger: Logger }) {
    this.#client = options.client;
    this.#cluster = options.cluster;
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.logger.child({ module: 'HolderTaskStatus' });
  }

  async verdict(holder: string): Promise<HolderTaskVerdict> {
    const arn = holderTaskArn(holder, this.#cluster);
    if (!arn) return 'unknown';
    const input: DescribeTasksCommandInput = { cluster: this.#cluster, tasks: [arn] };
    let output: DescribeTasksCommandOutput;
    try {
      output = await this.#client.send(new DescribeTasksCommand(input), {
        abortSignal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const summary = summarizeError(error);
      if (summary.message !== this.#lastProblem) {
        this.#lastProblem = summary.message;
        this.#log.warn({ error: summary, task: arn }, 'ECS DescribeTasks failed; waiting out the lease TTL instead');
      }
      return 'unknown';
    }
    this.#lastProblem = '';
    const task = output.tasks?.find((candidate) => candidate.taskArn === arn);
    if (!task) return 'unknown';
    if (task.lastStatus === 'STOPPED') return 'stopped';
    const ghost = task.containers?.find((container) => container.name === GHOST_CONTAINER);
    if (task.desiredStatus === 'STOPPED' && ghost?.lastStatus === 'STOPPED') return 'stopped';
    return 'unknown';
  }
}
