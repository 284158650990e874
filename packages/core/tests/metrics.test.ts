import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../src/metrics.js';

describe('createRegistry', () => {
  it('gives each app its own registry with default process metrics', async () => {
    const a = createRegistry();
    const b = createRegistry();
    new Counter({ name: 'things_total', help: 'Things.', registers: [a] }).inc();
    // The same name in another registry does not clash.
    new Counter({ name: 'things_total', help: 'Things.', registers: [b] });
    const text = await a.metrics();
    expect(text).toContain('things_total 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(await b.metrics()).toContain('things_total 0');
  });
});
