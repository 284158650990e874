/**
 * What CloudWatch would make of a service's Embedded Metric Format lines for one alarm of a template:
 * the metric's datapoints per period and whether any of them crosses the threshold. Covers what this
 * project's alarms use: one metric with dimensions and a statistic, or metric math that adds
 * `FILL(id, n)` terms. No stand-in runs CloudWatch's extraction locally; this follows its documented
 * rules (a document counts for a metric when it declares that dimension set and carries its values).
 */

export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[];
  };
  [field: string]: unknown;
}

export interface AlarmMetric {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
}

/** An alarm's properties with every intrinsic function already resolved. */
export interface ResolvedAlarm extends Partial<AlarmMetric> {
  Statistic?: string;
  Period?: number;
  Threshold: number;
  ComparisonOperator: string;
  Metrics?: {
    Id: string;
    Expression?: string;
    ReturnData?: boolean;
    MetricStat?: { Metric: AlarmMetric; Period: number; Stat: string };
  }[];
}

export interface AlarmEvaluation {
  /** The alarm's value per period start (ms since epoch). */
  datapoints: Map<number, number>;
  breaching: boolean;
}

/** The EMF documents among a process's output lines (other lines are ordinary logs). */
export function parseEmfLines(output: string): EmfDocument[] {
  const documents: EmfDocument[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"_aws"')) continue;
    try {
      const parsed = JSON.parse(line) as EmfDocument;
      if (parsed._aws?.CloudWatchMetrics) documents.push(parsed);
    } catch {
      // A torn or foreign line is not a metric.
    }
  }
  return documents;
}

export function evaluateAlarm(alarm: ResolvedAlarm, documents: readonly EmfDocument[]): AlarmEvaluation {
  let datapoints: Map<number, number>;
  if (alarm.Metrics) {
    const series = new Map<string, Map<number, number>>();
    for (const query of alarm.Metrics) {
      if (query.MetricStat) {
        series.set(
          query.Id,
          aggregate(query.MetricStat.Metric, query.MetricStat.Stat, query.MetricStat.Period, documents),
        );
      }
    }
    const returned = alarm.Metrics.find((query) => query.ReturnData !== false);
    if (!returned) throw new Error('the alarm returns no metric');
    datapoints = returned.Expression
      ? evaluateSum(returned.Expression, series)
      : (series.get(returned.Id) ?? new Map());
  } else {
    if (!alarm.Namespace || !alarm.MetricName || !alarm.Statistic || !alarm.Period) {
      throw new Error('the alarm names no metric, statistic or period');
    }
    datapoints = aggregate(
      {
        Namespace: alarm.Namespace,
        MetricName: alarm.MetricName,
        ...(alarm.Dimensions ? { Dimensions: alarm.Dimensions } : {}),
      },
      alarm.Statistic,
      alarm.Period,
      documents,
    );
  }
  const breaching = [...datapoints.values()].some((value) => compare(value, alarm.ComparisonOperator, alarm.Threshold));
  return { datapoints, breaching };
}

function aggregate(
  metric: AlarmMetric,
  statistic: string,
  periodSeconds: number,
  documents: readonly EmfDocument[],
): Map<number, number> {
  const dimensions = metric.Dimensions ?? [];
  const names = dimensions.map((d) => d.Name).sort();
  const samples = new Map<number, number[]>();
  for (const document of documents) {
    const declared = document._aws.CloudWatchMetrics.some(
      (directive) =>
        directive.Namespace === metric.Namespace &&
        directive.Metrics.some((m) => m.Name === metric.MetricName) &&
        directive.Dimensions.some((set) => [...set].sort().join(',') === names.join(',')),
    );
    if (!declared || !dimensions.every((d) => document[d.Name] === d.Value)) continue;
    const period = Math.floor(document._aws.Timestamp / (periodSeconds * 1000)) * periodSeconds * 1000;
    const list = samples.get(period) ?? [];
    list.push(...valuesOf(document[metric.MetricName]));
    samples.set(period, list);
  }
  const result = new Map<number, number>();
  for (const [period, values] of samples) {
    if (values.length > 0) result.set(period, statisticOf(statistic, values));
  }
  return result;
}

/** A distribution (`Values` with `Counts`) stands for each value repeated its count of times. */
function valuesOf(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  const distribution = value as { Values?: number[]; Counts?: number[] } | undefined;
  if (!distribution?.Values) return [];
  return distribution.Values.flatMap((v, i) => Array<number>(distribution.Counts?.[i] ?? 1).fill(v));
}

function statisticOf(statistic: string, values: number[]): number {
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      throw new Error(`statistic ${statistic} is not modelled`);
  }
}

/** `FILL(a, 0) + FILL(b, 0) + c`: the only metric math this project's alarms use. */
function evaluateSum(expression: string, series: Map<string, Map<number, number>>): Map<number, number> {
  const terms = expression.split('+').map((term) => term.trim());
  const periods = new Set<number>();
  for (const values of series.values()) for (const period of values.keys()) periods.add(period);
  const result = new Map<number, number>();
  for (const period of periods) {
    let total = 0;
    for (const term of terms) {
      const fill = /^FILL\((\w+),\s*(-?[\d.]+)\)$/.exec(term);
      const id = fill ? fill[1] : term;
      if (!id || !/^\w+$/.test(id)) throw new Error(`metric math '${term}' is not modelled`);
      const value = series.get(id)?.get(period) ?? (fill ? Number(fill[2]) : Number.NaN);
      total += value;
    }
    if (!Number.isNaN(total)) result.set(period, total);
  }
  return result;
}

function compare(value: number, operator: string, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison ${operator} is not modelled`);
  }
}

/**
 * An alarm's template properties with `Ref` to a parameter and `Fn::Sub` of parameters resolved, and
 * every other intrinsic (actions, imports) dropped: what the evaluation needs.
 */
export function resolveAlarm(properties: Record<string, unknown>, parameters: Record<string, string>): ResolvedAlarm {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    if ('Ref' in record) {
      const name = String(record.Ref);
      const resolved = parameters[name];
      if (resolved === undefined) throw new Error(`the test gives no value for parameter ${name}`);
      return resolved;
    }
    if ('Fn::Sub' in record && typeof record['Fn::Sub'] === 'string') {
      return record['Fn::Sub'].replace(/\$\{(\w+)\}/g, (_, name: string) => {
        const resolved = parameters[name];
        if (resolved === undefined) throw new Error(`the test gives no value for parameter ${name}`);
        return resolved;
      });
    }
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(record)) {
      if (key.startsWith('Fn::')) return undefined;
      out[key] = resolve(inner);
    }
    return out;
  };
  const { AlarmActions, OKActions, ActionsEnabled, InsufficientDataActions, ...rest } = properties;
  const resolved = resolve(rest) as Record<string, unknown>;
  return { ...resolved, Threshold: Number(resolved.Threshold) } as unknown as ResolvedAlarm;
}
