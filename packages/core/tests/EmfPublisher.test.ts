import { Counter, Gauge, Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EmfPublisher } from '../src/EmfPublisher.js';
import { createRegistry } from '../src/metrics.js';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[];
  };
  [key: string]: unknown;
}

function setUp() {
  const registry = createRegistry();
  const lines: EmfDocument[] = [];
  const publisher = new EmfPublisher({
    registry,
    namespace: 'site/Service',
    prefixes: ['app_'],
    rollups: { app_requests_total: [['result']] },
    write: (line) => lines.push(JSON.parse(line) as EmfDocument),
    now: () => 1_700_000_000_000,
  });
  const requests = new Counter({
    name: 'app_requests_total',
    help: 'Requests.',
    labelNames: ['result', 'route'],
    registers: [registry],
  });
  const status = new Gauge({ name: 'app_status', help: 'Status.', labelNames: ['status'], registers: [registry] });
  const duration = new Histogram({
    name: 'app_duration_seconds',
    help: 'Duration.',
    buckets: [0.1, 1],
    registers: [registry],
  });
  return { lines, publisher, requests, status, duration };
}

function byName(lines: EmfDocument[], name: string): EmfDocument[] {
  return lines.filter((line) => line._aws.CloudWatchMetrics[0]?.Metrics[0]?.Name === name);
}

describe('EmfPublisher', () => {
  it('publishes counters as the change since the last publish, with their labels as dimensions and rollups', async () => {
    const { lines, publisher, requests } = setUp();
    requests.inc({ result: 'sent', route: '/a' }, 3);
    await publisher.publish();
    requests.inc({ result: 'sent', route: '/a' }, 2);
    await publisher.publish();
    const docs = byName(lines, 'app_requests_total');
    expect(docs.map((d) => d.app_requests_total)).toEqual([3, 2]);
    const first = docs[0];
    expect(first?._aws.Timestamp).toBe(1_700_000_000_000);
    expect(first?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'site/Service',
      Dimensions: [['result', 'route'], ['result']],
      Metrics: [{ Name: 'app_requests_total', Unit: 'Count' }],
    });
    expect(first).toMatchObject({ result: 'sent', route: '/a' });
  });

  it('publishes gauges as their value and skips metrics outside its prefixes', async () => {
    const { lines, publisher, status } = setUp();
    status.set({ status: 'fail' }, 1);
    status.set({ status: 'pass' }, 0);
    await publisher.publish();
    const docs = byName(lines, 'app_status');
    expect(docs.map((d) => [d.status, d.app_status])).toEqual([
      ['fail', 1],
      ['pass', 0],
    ]);
    expect(lines.some((line) => String(line._aws.CloudWatchMetrics[0]?.Metrics[0]?.Name).startsWith('process_'))).toBe(
      false,
    );
  });

  it('publishes histograms as distributions of what was observed since the last publish', async () => {
    const { lines, publisher, duration } = setUp();
    duration.observe(0.05);
    duration.observe(0.5);
    duration.observe(0.6);
    duration.observe(7);
    await publisher.publish();
    duration.observe(0.05);
    await publisher.publish();
    await publisher.publish();
    const docs = byName(lines, 'app_duration_seconds');
    expect(docs.map((d) => d.app_duration_seconds)).toEqual([
      { Values: [0.1, 1], Counts: [1, 3] },
      { Values: [0.1], Counts: [1] },
    ]);
    expect(docs[0]?._aws.CloudWatchMetrics[0]?.Metrics[0]?.Unit).toBe('Seconds');
  });

  it('publishes what changed once more when stopped', async () => {
    const { lines, publisher, requests } = setUp();
    publisher.start(60_000);
    requests.inc({ result: 'failed', route: '/b' });
    await publisher.stop();
    expect(byName(lines, 'app_requests_total').map((d) => d.app_requests_total)).toEqual([1]);
  });
});
