import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';

/** One metric as CloudWatch will see it: where, what, under which dimension names. */
export interface EmfMetricIdentity {
  namespace: string;
  name: string;
  dimensions: readonly string[];
}

export interface EmfPublisherOptions {
  registry: Registry;
  /** CloudWatch namespace, e.g. `ghost-ha/HealthSidecar`. */
  namespace: string;
  /** Only metrics whose name starts with one of these are published (not Node's process metrics). */
  prefixes: readonly string[];
  /**
   * Extra dimension sets per metric, as label names to keep. Every label set is always published
   * with all its labels; a rollup adds the same value under fewer dimensions (e.g. `[['result']]`
   * to alarm on a result across every distribution). Only meaningful for counters and histograms.
   */
  rollups?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** Labels left out of the dimensions, e.g. a registry's `service` default label the namespace already says. */
  dropLabels?: readonly string[];
  /** Receives one EMF JSON document per call, without a newline. */
  write: (line: string) => void;
  now?: () => number;
}

interface EmfMetricDefinition {
  Name: string;
  Unit?: string;
}

type EmfValue = number | { Values: number[]; Counts: number[] };

/**
 * Publishes a prom-client registry as CloudWatch Embedded Metric Format lines, so the numbers
 * `/metrics` shows reach CloudWatch through the container's log stream with no scraper. Counters and
 * histograms go out as the change since the previous publish (CloudWatch sums datapoints per period);
 * gauges as their current value; a histogram as a distribution (bucket bounds and counts), which
 * CloudWatch turns into percentiles.
 */
export class EmfPublisher {
  readonly #options: EmfPublisherOptions;
  readonly #now: () => number;
  readonly #previous = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: EmfPublisherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Publishes every `intervalMs` until `stop()`; the timer never keeps the process alive. */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => {
      void this.publish().catch(() => undefined);
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and publishes what changed since the last time, so a clean stop loses nothing. */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.publish();
  }

  /** Writes one EMF document per metric and label set; returns what it wrote. */
  async publish(): Promise<EmfMetricIdentity[]> {
    const metrics = await this.#options.registry.getMetricsAsJSON();
    const timestamp = this.#now();
    const written: EmfMetricIdentity[] = [];
    for (const metric of metrics) {
      if (!this.#options.prefixes.some((prefix) => metric.name.startsWith(prefix))) continue;
      for (const point of this.#points(metric)) {
        const dimensionSets = [
          point.dimensions,
          ...(this.#options.rollups?.[metric.name] ?? []).map((set) => [...set]),
        ];
        const definition: EmfMetricDefinition = { Name: metric.name, ...(point.unit ? { Unit: point.unit } : {}) };
        const document = {
          _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
              { Namespace: this.#options.namespace, Dimensions: dimensionSets, Metrics: [definition] },
            ],
          },
          ...point.labels,
          [metric.name]: point.value,
        };
        this.#options.write(JSON.stringify(document));
        for (const dimensions of dimensionSets) {
          written.push({ namespace: this.#options.namespace, name: metric.name, dimensions });
        }
      }
    }
    return written;
  }

  *#points(
    metric: MetricObjectWithValues<MetricValue<string>>,
  ): Generator<{ labels: Record<string, string>; dimensions: string[]; value: EmfValue; unit?: string }> {
    const unit = metric.name.endsWith('_seconds') ? 'Seconds' : metric.name.endsWith('_total') ? 'Count' : undefined;
    // The type definitions say enum; at run time prom-client gives the type's name.
    const type = String(metric.type);
    if (type === 'histogram') {
      yield* this.#histogramPoints(metric as MetricObjectWithValues<MetricValueWithName<string>>, unit);
      return;
    }
    for (const value of metric.values) {
      const labels = this.#labels(value.labels);
      const dimensions = Object.keys(labels).sort();
      if (type === 'counter') {
        const key = `${metric.name}${JSON.stringify(labels)}`;
        const delta = value.value - (this.#previous.get(key) ?? 0);
        this.#previous.set(key, value.value);
        yield { labels, dimensions, value: Math.max(0, delta), ...(unit ? { unit } : {}) };
      } else {
        yield { labels, dimensions, value: value.value, ...(unit ? { unit } : {}) };
      }
    }
  }

  #labels(labels: Partial<Record<string, string | number>>): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(labels)) {
      if (value !== undefined && !this.#options.dropLabels?.includes(name)) result[name] = String(value);
    }
    return result;
  }

  /** Bucket counts are cumulative per label set; CloudWatch wants the count of each range since last time. */
  *#histogramPoints(
    metric: MetricObjectWithValues<MetricValueWithName<string>>,
    unit: string | undefined,
  ): Generator<{ labels: Record<string, string>; dimensions: string[]; value: EmfValue; unit?: string }> {
    const bySeries = new Map<string, { labels: Record<string, string>; buckets: [number, number][] }>();
    for (const value of metric.values) {
      if (value.metricName !== `${metric.name}_bucket`) continue;
      const { le, ...rest } = this.#labels(value.labels);
      const labels = rest;
      const key = JSON.stringify(labels);
      const series = bySeries.get(key) ?? { labels, buckets: [] };
      series.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), value.value]);
      bySeries.set(key, series);
    }
    for (const [key, series] of bySeries) {
      series.buckets.sort((a, b) => a[0] - b[0]);
      const values: number[] = [];
      const counts: number[] = [];
      let below = 0;
      let lastFinite = 0;
      for (const [bound, cumulative] of series.buckets) {
        const inRange = cumulative - below;
        below = cumulative;
        // The +Inf bucket has no upper bound: report it at the largest finite one.
        const at = Number.isFinite(bound) ? bound : lastFinite;
        if (Number.isFinite(bound)) lastFinite = bound;
        const stateKey = `${metric.name}${key}${bound}`;
        const delta = inRange - (this.#previous.get(stateKey) ?? 0);
        this.#previous.set(stateKey, inRange);
        if (delta <= 0) continue;
        const last = values.length - 1;
        // CloudWatch wants each value once: the +Inf range joins the largest finite bound's count.
        if (values[last] === at) counts[last] = (counts[last] ?? 0) + delta;
        else {
          values.push(at);
          counts.push(delta);
        }
      }
      if (values.length === 0) continue;
      yield {
        labels: series.labels,
        dimensions: Object.keys(series.labels).sort(),
        value: { Values: values, Counts: counts },
        ...(unit ? { unit } : {}),
      };
    }
  }
}
