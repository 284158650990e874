import { EmfPublisher, Registry } from '@ghost-ha/core';
import { Counter, Histogram } from 'prom-client';

/**
 * What a content function publishes to CloudWatch after each invocation, as Embedded Metric Format
 * lines in its log (Lambda sends stdout to CloudWatch Logs, which extracts them): runs by result,
 * posts by what happened to them, run duration. Alarms and widgets in `observability.yaml` may refer
 * only to these; a test holds them to it.
 */
export const CONTENT_SIGNALS = {
  namespaceSuffix: 'ContentFunctions',
  prefixes: ['content_'],
  dropLabels: [] as string[],
  /** Failures summed over both functions, so one alarm covers them. */
  rollups: {
    content_runs_total: [['result']],
  },
} as const;

export type RunResult = 'dry_run' | 'completed' | 'continued' | 'failed';
export type PostAction = 'deleted' | 'backed_up' | 'restored' | 'skipped' | 'failed';

export class RunMetrics {
  readonly registry = new Registry();
  readonly #function: string;
  readonly #runs: Counter<'function' | 'result'>;
  readonly #posts: Counter<'function' | 'action'>;
  readonly #duration: Histogram<'function'>;
  readonly #publisher: EmfPublisher | undefined;

  constructor(options: { functionName: string; namespace: string | undefined; write?: (line: string) => void }) {
    this.#function = options.functionName;
    const registers = [this.registry];
    this.#runs = new Counter({
      name: 'content_runs_total',
      help: 'Invocations by result: a dry run, completed, continued (time ran out), or failed.',
      labelNames: ['function', 'result'],
      registers,
    });
    this.#posts = new Counter({
      name: 'content_posts_total',
      help: 'Posts by what happened to them in a run (deleted, backed up, restored, skipped, failed).',
      labelNames: ['function', 'action'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'content_run_duration_seconds',
      help: 'How long each invocation took.',
      labelNames: ['function'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 900],
      registers,
    });
    const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
    this.#publisher = options.namespace
      ? new EmfPublisher({ ...CONTENT_SIGNALS, registry: this.registry, namespace: options.namespace, write })
      : undefined;
  }

  /** Records one invocation and publishes it; a failure to publish never fails the run. */
  async record(result: RunResult, seconds: number, posts: Partial<Record<PostAction, number>>): Promise<void> {
    const labels = { function: this.#function };
    this.#runs.inc({ ...labels, result });
    for (const [action, count] of Object.entries(posts)) {
      if (count !== undefined && count > 0) this.#posts.inc({ ...labels, action }, count);
    }
    this.#duration.observe(labels, seconds);
    await this.#publisher?.publish().catch(() => undefined);
  }
}
