import { createRegistry } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import type { Check, Observation } from '../src/Check.js';
import { HealthMonitor } from '../src/HealthMonitor.js';
import { SidecarMetrics } from '../src/SidecarMetrics.js';
import { testLogger } from './sidecarFixture.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A check that ignores its abort, as a call stuck in the kernel (a hung NFS mount) does. */
class StuckCheck implements Check {
  readonly key = 'stuck:responseTime';
  readonly componentType = 'component';
  runs = 0;

  run(): Promise<Observation> {
    this.runs++;
    return new Promise(() => {});
  }
}

describe('HealthMonitor with a check that never settles', () => {
  it('reports it still running for at most an interval past its timeout, then starts it afresh, leaving at most two behind', async () => {
    const check = new StuckCheck();
    const metrics = new SidecarMetrics(createRegistry());
    const monitor = new HealthMonitor({
      checks: [check],
      intervalMs: 200,
      timeoutMs: 50,
      now: Date.now,
      metrics,
      logger: testLogger,
    });
    const output = async () => (await monitor.runRound()).report.checks['stuck:responseTime']?.[0]?.output;

    expect(await output()).toBe('no answer within 50 ms');
    expect(await output()).toMatch(/^still running since an earlier round \(\d+ ms, limit 50 ms\)$/);
    await sleep(260);
    expect(await output()).toBe('no answer within 50 ms');
    expect(check.runs).toBe(2);
    await sleep(260);
    expect(await output()).toBe('no answer within 50 ms');
    expect(check.runs).toBe(3);
    // Two runs are left behind unsettled: the third is waited for instead of adding a fourth.
    await sleep(260);
    expect(await output()).toMatch(/^still running since an earlier round/);
    expect(check.runs).toBe(3);
    expect(await metrics.registry.metrics()).toContain(
      'ghost_ha_health_checks_abandoned_total{check="stuck:responseTime"} 2',
    );
  });
});
