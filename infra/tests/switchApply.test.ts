// @module-tag integration
import { DeregisterTargetsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { StepFailedError } from '../src/errors.js';
import { applyPlan } from '../src/switch/applyPlan.js';
import type { Deployment } from '../src/switch/Deployment.js';
import { discoverDeployment } from '../src/switch/discoverDeployment.js';
import { planSwitch } from '../src/switch/planSwitch.js';
import { runSwitch } from '../src/switch/runSwitch.js';
import { parseSwitchArgs } from '../src/switch/SwitchRequest.js';
import type { SwitchPlan } from '../src/switch/SwitchStep.js';
import {
  alarmActions,
  distributionConfig,
  FAST,
  PRIMARY,
  SECONDARY,
  serviceCounts,
} from './support/deploymentInMoto.js';
import { useSwitchTestBed } from './support/switchTestBed.js';

/**
 * The plan's steps whose every call plain moto implements (ECS, ELBv2, CloudFront, CloudWatch); the
 * drill (switchDrill.test.ts) runs whole plans on moto extended with the rest.
 */
function stepsMotoImplements(plan: SwitchPlan): SwitchPlan {
  const implemented = new Set(['ecs', 'elbv2', 'cloudfront', 'cloudwatch']);
  return {
    ...plan,
    steps: plan.steps.filter((s) => s.calls.every((c) => implemented.has(c.operation.split(':')[0] ?? ''))),
  };
}

describe('failover/failback apply against moto', () => {
  const bed = useSwitchTestBed();

  const request = (direction: 'failover' | 'failback', ...extra: string[]) =>
    parseSwitchArgs(direction, [...bed.deploymentArgs(), ...extra]);

  it('discovers the clusters from the global database and the file systems by name', async () => {
    const deployment = await discoverDeployment(request('failover'), bed.clients);
    expect(deployment.primary.clusterArn).toMatch(/^arn:aws:rds:eu-west-1:\d{12}:cluster:ghost-primary$/);
    expect(deployment.secondary.clusterArn).toMatch(/^arn:aws:rds:eu-central-1:\d{12}:cluster:ghost-secondary$/);
    expect(deployment.primary.fileSystemId).toMatch(/^fs-/);
    expect(deployment.secondary.fileSystemId).toMatch(/^fs-/);
    expect(deployment.primary.fileSystemId).not.toBe(deployment.secondary.fileSystemId);
  });

  it('fails discovery with what to pass when a region has no member cluster', async () => {
    const wrongRegion = parseSwitchArgs('failover', [
      ...bed.deploymentArgs().slice(0, 2),
      '--secondary-region',
      'us-west-2',
      '--distribution-id',
      bed.deployment.distributionId,
    ]);
    await expect(discoverDeployment(wrongRegion, bed.clients)).rejects.toThrow(
      /no member cluster in us-west-2 .*--secondary-cluster-arn/,
    );
  });

  it('in a disaster, does not need the file system of the region it leaves', async () => {
    const unreachable = parseSwitchArgs('failover', [
      ...bed.deploymentArgs(),
      '--mode',
      'disaster',
      '--primary-file-system',
      'fs-0aaaaaaaaaaaaaaa1',
    ]);
    const known = await discoverDeployment(unreachable, bed.clients);
    expect(known.primary.fileSystemId).toBe('fs-0aaaaaaaaaaaaaaa1');
    // A region without such a file system stands for one that does not answer.
    const lost = parseSwitchArgs('failover', [
      '--primary-region',
      'us-west-2',
      '--secondary-region',
      SECONDARY,
      '--distribution-id',
      bed.deployment.distributionId,
      '--primary-cluster-arn',
      'arn:aws:rds:us-west-2:123456789012:cluster:gone',
      '--mode',
      'disaster',
    ]);
    const deployment = await discoverDeployment(lost, bed.clients);
    expect(deployment.primary.fileSystemId).toBe('<file system in us-west-2: not reachable>');
    expect(deployment.secondary.fileSystemId).toMatch(/^fs-/);
    await expect(discoverDeployment({ ...lost, mode: 'planned' }, bed.clients)).rejects.toThrow(
      /Expected one EFS file system named 'ghost-ha-content' in us-west-2, found 0; pass --primary-file-system/,
    );
  });

  it('moves Ghost, the CloudFront origin order and the alarms to the secondary and back', async () => {
    const deployment: Deployment = await discoverDeployment(request('failover'), bed.clients);
    const lines: string[] = [];
    const failover = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    expect(failover.steps.map((s) => s.id)).toEqual([
      'stop-ghost-eu-west-1',
      'stop-invalidator-eu-west-1',
      'start-invalidator-eu-central-1',
      'start-and-route',
      'switch-alarms',
    ]);
    await applyPlan(failover, bed.clients, FAST, (line) => lines.push(line));

    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(PRIMARY, 'invalidator')).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(SECONDARY, 'invalidator')).toEqual({ desired: 1, running: 1 });
    const switched = await distributionConfig(bed.deployment.distributionId);
    expect(switched.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual([
      `alb-${SECONDARY}`,
      `alb-${PRIMARY}`,
    ]);
    expect(switched.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${SECONDARY}`);
    expect(await alarmActions(SECONDARY)).toEqual([true, true, true, true, true]);
    expect(await alarmActions(PRIMARY)).toEqual([false, false, false, false, false]);
    expect(lines.filter((l) => / ok, /.test(l))).toHaveLength(5);
    // Ghost's start and CloudFront's change ran at once, each with its own time.
    expect(lines).toContainEqual(
      expect.stringMatching(
        /start-and-route: ok, start-ghost-eu-central-1: .*targets healthy 1 \[took \d+\.\d s\]; switch-cloudfront: status Deployed \[took \d+\.\d s\]/,
      ),
    );

    await applyPlan(stepsMotoImplements(planSwitch(deployment, 'failback', 'planned')), bed.clients, FAST, () => {});
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(PRIMARY, 'invalidator')).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(SECONDARY, 'invalidator')).toEqual({ desired: 0, running: 0 });
    const back = await distributionConfig(bed.deployment.distributionId);
    expect(back.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual([
      `alb-${PRIMARY}`,
      `alb-${SECONDARY}`,
    ]);
    expect(back.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${PRIMARY}`);
    expect(await alarmActions(PRIMARY)).toEqual([true, true, true, true, true]);
  });

  it('fails the start when the ALB never reports the new task healthy, saying where to look', async () => {
    const elbv2 = new ElasticLoadBalancingV2Client({ region: SECONDARY });
    await elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: bed.deployment.targetGroups.get(SECONDARY),
        Targets: [{ Id: '10.20.0.10', Port: 8080 }],
      }),
    );
    const deployment = await discoverDeployment(request('failover'), bed.clients);
    const plan = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    const failure = await applyPlan(plan, bed.clients, FAST, () => {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as StepFailedError).stepId).toBe('start-and-route');
    expect((failure as Error).message).toMatch(
      /Timed out .* waiting for Ghost to become healthy in eu-central-1 .*targets none registered/,
    );
    expect((failure as StepFailedError).next).toMatch(/health-sidecar's \/health output/);
    // CloudFront moved beside the start (writes got 503s in either region while Ghost was stopped);
    // the run stopped after both settled: the alarms did not move.
    const config = await distributionConfig(bed.deployment.distributionId);
    expect(config.OriginGroups?.Items?.[0]?.Members?.Items?.[0]?.OriginId).toBe(`alb-${SECONDARY}`);
    expect(await alarmActions(PRIMARY)).toEqual([true, true, true, true, true]);
  });

  it('applying a step twice changes nothing the second time', async () => {
    const deployment = await discoverDeployment(request('failover'), bed.clients);
    const plan = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    await applyPlan(plan, bed.clients, FAST, () => {});
    const before = await distributionConfig(bed.deployment.distributionId);
    await applyPlan(plan, bed.clients, FAST, () => {});
    expect(await distributionConfig(bed.deployment.distributionId)).toEqual(before);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
  });

  it('stops at the first failing step with what to do next, changing nothing after it', async () => {
    // moto has no FailoverGlobalCluster: the disaster run moves writes off the primary, stops Ghost
    // there beside the promotion, and fails at the promotion.
    let out = '';
    let err = '';
    const code = await runSwitch(['failover', '--mode', 'disaster', '--apply', ...bed.deploymentArgs()], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      pacing: FAST,
      clients: bed.clients,
    });
    expect(code).toBe(1);
    expect(out).toMatch(/1\/10 preflight: ok/);
    expect(out).toMatch(/3\/10 route-writes-away: ok/);
    // The run marks a best-effort step as the plan does: once, from the step's flag.
    expect(out).toMatch(
      /3\/10 route-writes-away: Stop sending writes to eu-west-1: [^\n]* now \[best effort\] \(expected/,
    );
    expect(out).toMatch(/4\/10 check-mirror: ok, no bucket ghost-ha-mirror-123456789012-eu-central-1 in eu-central-1/);
    expect(out).toMatch(/5\/10 stop-and-promote: {3}stop-ghost-eu-west-1: desired 0, running 0/);
    expect(out).toMatch(/5\/10 stop-and-promote: {3}stop-invalidator-eu-west-1: desired 0, running 0/);
    expect(err).toMatch(/Step 5\/10 stop-and-promote failed/);
    expect(err).toMatch(/What to do next: Read the global database's events in eu-central-1/);
    expect(out).not.toMatch(/6\/10/);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(PRIMARY, 'invalidator')).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(SECONDARY, 'invalidator')).toEqual({ desired: 0, running: 0 });
    // In a disaster writes leave the old region first, whatever happens to the promotion after.
    const routed = await distributionConfig(bed.deployment.distributionId);
    expect(routed.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${SECONDARY}`);
  });
});
