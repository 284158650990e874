import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';

// biome-ignore lint/suspicious/noExplicitAny: container definitions are template JSON.
type Json = any;

const app = loadTemplate('app');
const task = app.Resources.TaskDefinition?.Properties as Json;
const service = app.Resources.Service?.Properties as Json;
const containers = (task.ContainerDefinitions as Json[]).filter((c) => c && typeof c.Name === 'string');
const ghost = containers.find((c) => c.Name === 'ghost');
const sidecar = containers.find((c) => c.Name === 'health-sidecar');
const env = (name: string): number => {
  const found = (sidecar.Environment as Json[]).find((e) => e.Name === name);
  if (found === undefined) throw new Error(`the sidecar has no ${name}`);
  return Number(found.Value);
};

/**
 * The fencing arithmetic of the health-sidecar README ("Fencing"), checked on the task definition's
 * own values, so that a change to one of them cannot quietly break the promise "one Ghost, ever".
 */
describe('app: the fencing budget of the one Ghost task', () => {
  const ttlMs = env('LEASE_TTL_MS');
  const marginMs = env('FENCE_MARGIN_MS');
  const ghostStopMs = ghost.StopTimeout * 1000;
  const check = sidecar.HealthCheck;

  it("tells the sidecar Ghost's and its own stop timeouts as they are", () => {
    expect(env('GHOST_STOP_TIMEOUT_MS')).toBe(ghostStopMs);
    expect(env('STOP_TIMEOUT_MS')).toBe(sidecar.StopTimeout * 1000);
    expect(env('GHOST_STOP_WAIT_MS')).toBeGreaterThan(ghostStopMs);
    expect(ghost.DependsOn).toEqual([{ ContainerName: 'health-sidecar', Condition: 'HEALTHY' }]);
    expect(sidecar.Essential).toBe(true);
  });

  it('a holder cut off from the database stops its Ghost within the lease TTL, and rides out a minute-long failover', () => {
    // It exits after its patience; ECS then gives Ghost its stop timeout; the margin is for ECS.
    const patienceMs = ttlMs - ghostStopMs - marginMs;
    expect(patienceMs).toBeGreaterThanOrEqual(60_000);
  });

  it('a database outage the holder rides out does not get its task replaced by the load balancer check', () => {
    // /health/ready fails at once while the database hangs; the ALB calls the target unhealthy after
    // its threshold of failures, and ECS then replaces the task. That must come after the patience.
    const target = app.Resources.TargetGroup?.Properties as Json;
    const patienceMs = ttlMs - ghostStopMs - marginMs;
    expect(target.HealthCheckIntervalSeconds * target.UnhealthyThresholdCount * 1000).toBeGreaterThan(patienceMs);
  });

  it('a hung sidecar gets its task stopped, Ghost included, within the lease TTL', () => {
    // UNHEALTHY after at most retries x (interval + timeout): Docker waits one interval after each
    // probe ends, a timed-out one included. The service ignores it during its grace period after
    // the task started; then Ghost gets its stop timeout.
    const unhealthyMs = check.Retries * (check.Interval + check.Timeout) * 1000;
    const noticedMs = Math.max(unhealthyMs, service.HealthCheckGracePeriodSeconds * 1000);
    expect(ttlMs - noticedMs - ghostStopMs).toBeGreaterThanOrEqual(marginMs);
  });

  it('a new task can wait out an old holder behind its stop without being replaced for it', () => {
    expect(check.StartPeriod * 1000).toBeGreaterThanOrEqual(ttlMs + sidecar.StopTimeout * 1000);
  });
});
