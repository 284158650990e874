import { describe, expect, it } from 'vitest';
import type { Check, HealthStatus, Observation } from '../src/Check.js';
import { HealthMonitor, type HealthObserver } from '../src/HealthMonitor.js';
import { HEALTH_CONTENT_TYPE } from '../src/HealthReport.js';
import { createLogger } from '../src/logger.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logger = createLogger({ service: 'test', level: 'silent' });

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

/** A check whose answer the test sets. */
class SetCheck implements Check {
  readonly componentType = 'component';
  observation: Observation = { status: 'pass' };
  constructor(readonly key: string) {}

  async run(): Promise<Observation> {
    if (this.observation.status === 'fail' && this.observation.output === 'throws') throw new TypeError('boom');
    return this.observation;
  }
}

/** Counts what the monitor reports, as a service's metrics would. */
class CountingObserver implements HealthObserver {
  readonly verdicts: HealthStatus[] = [];
  readonly abandoned = new Map<string, number>();
  readonly checks: string[] = [];
  recordCheck(check: string, status: HealthStatus): void {
    this.checks.push(`${check}=${status}`);
  }
  recordAbandonedCheck(check: string): void {
    this.abandoned.set(check, (this.abandoned.get(check) ?? 0) + 1);
  }
  setVerdict(status: HealthStatus): void {
    this.verdicts.push(status);
  }
}

function monitorOf(checks: Check[], observer?: HealthObserver, intervalMs = 200, timeoutMs = 50) {
  return new HealthMonitor({
    checks,
    description: 'test service',
    intervalMs,
    timeoutMs,
    now: Date.now,
    logger,
    ...(observer ? { observer } : {}),
  });
}

describe('HealthMonitor', () => {
  it('is fail until a round completes, then the worst status of its checks, with the reason in one line', async () => {
    const a = new SetCheck('a:responseTime');
    const b = new SetCheck('b:responseTime');
    const observer = new CountingObserver();
    const monitor = monitorOf([a, b], observer);
    expect(monitor.current.report).toMatchObject({ status: 'fail', output: 'no check round has completed yet' });
    expect(monitor.current.httpStatus).toBe(503);

    expect((await monitor.runRound()).report.status).toBe('pass');
    b.observation = { status: 'warn', output: 'slow' };
    let rendered = await monitor.runRound();
    expect(rendered.report).toMatchObject({ status: 'warn', output: 'b:responseTime: slow' });
    expect(rendered.httpStatus).toBe(200);
    a.observation = { status: 'fail', output: 'throws' };
    rendered = await monitor.runRound();
    expect(rendered.report).toMatchObject({ status: 'fail', output: 'a:responseTime: TypeError: boom' });
    expect(rendered.httpStatus).toBe(503);
    expect(JSON.parse(rendered.verdictBody.toString())).toEqual({
      status: 'fail',
      output: 'a:responseTime: TypeError: boom',
    });
    const full = JSON.parse(rendered.fullBody.toString());
    expect(full).toMatchObject({ status: 'fail', description: 'test service' });
    expect(full.checks['b:responseTime'][0]).toMatchObject({
      status: 'warn',
      componentType: 'component',
      output: 'slow',
    });
    expect(Date.parse(full.checks['b:responseTime'][0].time)).not.toBeNaN();
    expect(observer.verdicts).toEqual(['pass', 'warn', 'fail']);
    expect(HEALTH_CONTENT_TYPE).toBe('application/health+json');
  });

  it('tells listeners of verdict changes, and draining turns the verdict fail without telling them', async () => {
    const a = new SetCheck('a:responseTime');
    const monitor = monitorOf([a]);
    const heard: HealthStatus[] = [];
    monitor.onVerdictChange((status) => heard.push(status));
    await monitor.runRound();
    await monitor.runRound();
    a.observation = { status: 'warn' };
    await monitor.runRound();
    monitor.setDraining('stopping');
    expect(monitor.current.report).toMatchObject({ status: 'fail', output: 'stopping' });
    await monitor.runRound();
    expect(monitor.current.report.status).toBe('fail');
    expect(heard).toEqual(['pass', 'warn']);
  });

  it('runs rounds in the background every interval until stopped', async () => {
    const a = new SetCheck('a:responseTime');
    const observer = new CountingObserver();
    const monitor = monitorOf([a], observer, 30);
    monitor.start();
    await sleep(200);
    await monitor.stop();
    const rounds = observer.checks.length;
    expect(rounds).toBeGreaterThanOrEqual(3);
    await sleep(100);
    expect(observer.checks.length).toBe(rounds);
  });
});

describe('HealthMonitor with a check that never settles', () => {
  it('reports it still running for at most an interval past its timeout, then starts it afresh, leaving at most two behind', async () => {
    const check = new StuckCheck();
    const observer = new CountingObserver();
    const monitor = monitorOf([check], observer);
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
    expect(observer.abandoned.get('stuck:responseTime')).toBe(2);
  });
});
