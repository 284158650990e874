import type { Env } from '@ghost-ha/core';
import { loadConfig } from '@ghost-ha/health-sidecar/config';
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

/**
 * The sidecar's settings as its own `loadConfig` reads them from the task definition's environment
 * (values the template computes at deploy time, and the secrets, get placeholders).
 */
function sidecarConfig() {
  const env: Record<string, string> = {
    SITE_URL: 'https://blog.example.com',
    database__connection__host: 'ghost.cluster-abc.eu-west-1.rds.amazonaws.com',
    database__connection__user: 'ghost',
    database__connection__password: 'placeholder',
  };
  for (const entry of sidecar.Environment as Json[]) if (typeof entry.Value === 'string') env[entry.Name] = entry.Value;
  return loadConfig(env as Env);
}

/**
 * How long ECS takes to stop a task after its essential container exited: not documented by AWS
 * (seconds in practice); the budget below leaves this much for it.
 */
const ECS_EXIT_REACTION_MS = 5_000;

/**
 * The fencing arithmetic of the health-sidecar README ("Fencing"), on the values the sidecar
 * itself reads from the task definition, every bound counted from the holder's last successful
 * renewal (what the lease's age is measured from), so that a change to one of them cannot quietly
 * break the promise "one Ghost, ever".
 */
describe('app: the fencing budget of the one Ghost task', () => {
  const config = sidecarConfig();
  const { leaseTtlMs, patienceMs, ghostStopTimeoutMs, marginMs } = config.fencing;
  const check = sidecar.HealthCheck;
  /** The watchdog (the health check) runs every interval after the previous probe ended. */
  const watchdogLatencyMs = (check.Interval + check.Timeout) * 1000;

  it("tells the sidecar Ghost's and its own stop timeouts as they are", () => {
    expect(ghostStopTimeoutMs).toBe(ghost.StopTimeout * 1000);
    expect(config.shutdown.stopTimeoutMs).toBe(sidecar.StopTimeout * 1000);
    expect(config.shutdown.ghostStopWaitMs).toBeGreaterThan(ghost.StopTimeout * 1000);
    expect(ghost.DependsOn).toEqual([{ ContainerName: 'health-sidecar', Condition: 'HEALTHY' }]);
    expect(sidecar.Essential).toBe(true);
  });

  it('a holder cut off from the database rides out a minute-long failover, and its Ghost is stopped within the TTL of its last renewal', () => {
    expect(patienceMs).toBeGreaterThanOrEqual(60_000);
    // It exits at its patience; ECS then gives Ghost its stop timeout.
    expect(patienceMs + ECS_EXIT_REACTION_MS + ghostStopTimeoutMs).toBeLessThanOrEqual(leaseTtlMs);
  });

  it('a sidecar that hangs at any moment (renewals failing for 70 s first, or not) has its Ghost stopped within the TTL of its last renewal', () => {
    // The watchdog reads the deadline the sidecar wrote at its last renewal (renewal + patience)
    // and kills it at the first probe after it; the hang itself does not matter, nor when it began.
    expect(sidecar.LinuxParameters?.InitProcessEnabled).toBe(true);
    expect(check.Command.join(' ')).toContain('process.kill(w.pid');
    for (const failingBeforeHangMs of [0, 70_000, patienceMs]) {
      const killedMs = Math.max(failingBeforeHangMs, patienceMs) + watchdogLatencyMs;
      expect(killedMs + ECS_EXIT_REACTION_MS + ghostStopTimeoutMs).toBeLessThanOrEqual(leaseTtlMs);
    }
    // The margin is what leaves room for it.
    expect(marginMs).toBeGreaterThanOrEqual(watchdogLatencyMs + ECS_EXIT_REACTION_MS);
  });

  it('the watchdog file is on a volume the sidecar can write (its root file system is read-only)', () => {
    const file = config.fencing.watchdogFile ?? '';
    expect(file).not.toBe('');
    const mounts = (sidecar.MountPoints as Json[]).filter((m) => m.ReadOnly !== true);
    expect(mounts.some((m) => file.startsWith(`${m.ContainerPath}/`))).toBe(true);
  });

  it('ECS may not restart the sidecar inside a running task: a new holder id beside a running Ghost', () => {
    // A restarted essential container keeps the task (and its Ghost) running, while the sidecar
    // comes back under a new holder id that waits for the lease its own Ghost holds.
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-restart-policy.html
    expect(sidecar.RestartPolicy?.Enabled ?? false).toBe(false);
  });

  it('a database outage the holder rides out does not get its task replaced by the load balancer check', () => {
    // /health/ready fails at once while the database hangs; the ALB calls the target unhealthy after
    // its threshold of failures, and ECS then replaces the task. That must come after the patience.
    const target = app.Resources.TargetGroup?.Properties as Json;
    expect(target.HealthCheckIntervalSeconds * target.UnhealthyThresholdCount * 1000).toBeGreaterThan(patienceMs);
  });

  it('a new task can wait out an old holder behind its stop without being replaced for it', () => {
    // A standby takes over an expired lease only after watching it unrenewed for a full TTL itself.
    expect(check.StartPeriod * 1000).toBeGreaterThanOrEqual(leaseTtlMs + sidecar.StopTimeout * 1000);
  });

  it('the health check still fails an unhealthy sidecar within the grace period the service gives it', () => {
    expect(service.HealthCheckGracePeriodSeconds * 1000).toBeLessThan(leaseTtlMs);
  });
  it("takeover on evidence: the task role may ask ECS about its own cluster's tasks only, in less than an interval", () => {
    const role = app.Resources.TaskRole?.Properties as Json;
    const policy = (role.Policies as Json[]).find((p) => p?.PolicyName === 'describe-own-cluster-tasks');
    const [statement] = policy.PolicyDocument.Statement as Json[];
    expect(statement.Action).toBe('ecs:DescribeTasks');
    // Task ARNs of the cluster named after the project (DescribeTasks accepts task resources and the
    // ecs:cluster condition key: Service Authorization Reference, Amazon ECS).
    const cluster = app.Resources.Cluster?.Properties as Json;
    expect(cluster?.ClusterName).toEqual({ Ref: 'ProjectName' });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string.
    const taskArns = 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${ProjectName}/*';
    expect(statement.Resource).toEqual({ 'Fn::Sub': taskArns });
    expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['Cluster', 'Arn'] } } });
    // A standby asks once per interval; an unanswered question must not stretch its loop.
    expect(config.fencing.ecsDescribeTimeoutMs).toBeGreaterThan(0);
    expect(config.fencing.ecsDescribeTimeoutMs).toBeLessThan(config.checks.intervalMs);
  });
});
