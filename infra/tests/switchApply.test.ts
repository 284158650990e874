import {
  CloudFrontClient,
  CreateDistributionCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
} from '@aws-sdk/client-cloudfront';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { CreateFileSystemCommand, EFSClient } from '@aws-sdk/client-efs';
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBClusterCommand, CreateGlobalClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepFailedError } from '../src/errors.js';
import { AwsClients } from '../src/switch/AwsClients.js';
import { applyPlan } from '../src/switch/applyPlan.js';
import { type Deployment, regionalAlarmNames, siteNames } from '../src/switch/Deployment.js';
import { discoverDeployment } from '../src/switch/discoverDeployment.js';
import { planSwitch } from '../src/switch/planSwitch.js';
import type { Pacing } from '../src/switch/poll.js';
import { runSwitch } from '../src/switch/runSwitch.js';
import { parseSwitchArgs } from '../src/switch/SwitchRequest.js';
import type { SwitchPlan } from '../src/switch/SwitchStep.js';

const PRIMARY = 'eu-west-1';
const SECONDARY = 'eu-central-1';
const PROJECT = 'ghost-ha';
const ENGINE = { Engine: 'aurora-mysql', EngineVersion: '8.0.mysql_aurora.3.08.2' };

// Waits that poll moto finish at once; the scale keeps a stuck wait from hanging the test.
const FAST: Pacing = {
  intervalMs: 5,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutScale: 0.005,
};

const targetGroups = new Map<string, string>();

/** A two-region deployment in moto, as the stacks would leave it: Ghost runs in the primary. */
async function createDeployment(): Promise<string> {
  const rds = (region: string) => new RDSClient({ region });
  await rds(PRIMARY).send(new CreateGlobalClusterCommand({ GlobalClusterIdentifier: `${PROJECT}-global`, ...ENGINE }));
  await rds(PRIMARY).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'ghost-primary',
      GlobalClusterIdentifier: `${PROJECT}-global`,
      MasterUsername: 'ghost',
      MasterUserPassword: 'not-a-real-password',
      ...ENGINE,
    }),
  );
  await rds(SECONDARY).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'ghost-secondary',
      GlobalClusterIdentifier: `${PROJECT}-global`,
      ...ENGINE,
    }),
  );
  for (const [region, running, actions] of [
    [PRIMARY, true, true],
    [SECONDARY, false, false],
  ] as const) {
    await new EFSClient({ region }).send(
      new CreateFileSystemCommand({ CreationToken: region, Tags: [{ Key: 'Name', Value: `${PROJECT}-content` }] }),
    );
    // The ALB's target group, with the task's address registered (moto reports registered targets healthy).
    const { Vpc } = await new EC2Client({ region }).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const elbv2 = new ElasticLoadBalancingV2Client({ region });
    const { TargetGroups = [] } = await elbv2.send(
      new CreateTargetGroupCommand({
        Name: `${PROJECT}-gate`,
        Protocol: 'HTTP',
        Port: 8080,
        TargetType: 'ip',
        VpcId: Vpc?.VpcId,
      }),
    );
    const targetGroupArn = TargetGroups[0]?.TargetGroupArn ?? '';
    targetGroups.set(region, targetGroupArn);
    await elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: '10.20.0.10', Port: 8080 }] }),
    );
    const ecs = new ECSClient({ region });
    const names = siteNames(PROJECT, region);
    await ecs.send(new CreateClusterCommand({ clusterName: names.ecsCluster }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${PROJECT}-ghost`,
        containerDefinitions: [{ name: 'ghost', image: 'ghost:5.130.6', memory: 1024 }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: names.ecsCluster,
        serviceName: names.ecsService,
        taskDefinition: `${PROJECT}-ghost`,
        desiredCount: 0,
        loadBalancers: [{ targetGroupArn, containerName: 'health-sidecar', containerPort: 8080 }],
      }),
    );
    // Scaled up after creation, as moto then reports the task running and the deployment complete.
    if (running) {
      await ecs.send(
        new UpdateServiceCommand({ cluster: names.ecsCluster, service: names.ecsService, desiredCount: 1 }),
      );
    }
    const cloudwatch = new CloudWatchClient({ region, protocol: AwsQueryProtocol });
    for (const AlarmName of regionalAlarmNames(PROJECT)) {
      await cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName,
          Namespace: 'AWS/ECS',
          MetricName: 'CPUUtilization',
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 80,
          ComparisonOperator: 'GreaterThanThreshold',
          ActionsEnabled: actions,
          AlarmActions: [`arn:aws:sns:${region}:123456789012:${PROJECT}-alarms`],
        }),
      );
    }
  }
  const origin = (region: string) => ({
    Id: `alb-${region}`,
    DomainName: `ghost-ha-123.${region}.elb.amazonaws.com`,
    CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' as const },
  });
  const behavior = { ViewerProtocolPolicy: 'redirect-to-https' as const, MinTTL: 0 };
  const { Distribution } = await new CloudFrontClient({ region: 'us-east-1' }).send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: 'ghost-ha-test',
        Comment: 'ghost-ha',
        Enabled: true,
        Origins: { Quantity: 2, Items: [origin(PRIMARY), origin(SECONDARY)] },
        OriginGroups: {
          Quantity: 1,
          Items: [
            {
              Id: 'ghost-regions',
              FailoverCriteria: { StatusCodes: { Quantity: 4, Items: [500, 502, 503, 504] } },
              Members: { Quantity: 2, Items: [{ OriginId: `alb-${PRIMARY}` }, { OriginId: `alb-${SECONDARY}` }] },
            },
          ],
        },
        DefaultCacheBehavior: { TargetOriginId: `alb-${PRIMARY}`, ...behavior },
        CacheBehaviors: {
          Quantity: 1,
          Items: [{ PathPattern: '/ghost/*', TargetOriginId: `alb-${PRIMARY}`, ...behavior }],
        },
      },
    }),
  );
  if (!Distribution?.Id) throw new Error('moto created no distribution');
  return Distribution.Id;
}

async function serviceCounts(region: string) {
  const names = siteNames(PROJECT, region);
  const { services = [] } = await new ECSClient({ region }).send(
    new DescribeServicesCommand({ cluster: names.ecsCluster, services: [names.ecsService] }),
  );
  return { desired: services[0]?.desiredCount, running: services[0]?.runningCount };
}

async function distributionConfig(id: string): Promise<DistributionConfig> {
  const { DistributionConfig } = await new CloudFrontClient({ region: 'us-east-1' }).send(
    new GetDistributionConfigCommand({ Id: id }),
  );
  if (!DistributionConfig) throw new Error('no distribution config');
  return DistributionConfig;
}

async function alarmActions(region: string): Promise<boolean[]> {
  const { MetricAlarms = [] } = await new CloudWatchClient({ region, protocol: AwsQueryProtocol }).send(
    new DescribeAlarmsCommand({ AlarmNames: regionalAlarmNames(PROJECT) }),
  );
  return MetricAlarms.map((a) => a.ActionsEnabled ?? false);
}

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
  let moto: MotoServer;
  let restoreEnv: () => void;
  let distributionId: string;
  let clients: AwsClients;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  beforeEach(async () => {
    await moto.reset();
    distributionId = await createDeployment();
    clients = new AwsClients({ cloudWatchConfig: { protocol: AwsQueryProtocol } });
    return () => clients.destroy();
  });

  const request = (direction: 'failover' | 'failback', ...extra: string[]) =>
    parseSwitchArgs(direction, [
      '--primary-region',
      PRIMARY,
      '--secondary-region',
      SECONDARY,
      '--distribution-id',
      distributionId,
      ...extra,
    ]);

  it('discovers the clusters from the global database and the file systems by name', async () => {
    const deployment = await discoverDeployment(request('failover'), clients);
    expect(deployment.primary.clusterArn).toMatch(/^arn:aws:rds:eu-west-1:\d{12}:cluster:ghost-primary$/);
    expect(deployment.secondary.clusterArn).toMatch(/^arn:aws:rds:eu-central-1:\d{12}:cluster:ghost-secondary$/);
    expect(deployment.primary.fileSystemId).toMatch(/^fs-/);
    expect(deployment.secondary.fileSystemId).toMatch(/^fs-/);
    expect(deployment.primary.fileSystemId).not.toBe(deployment.secondary.fileSystemId);
  });

  it('fails discovery with what to pass when a region has no member cluster', async () => {
    const wrongRegion = parseSwitchArgs('failover', [
      ...requestArgs(distributionId).slice(0, 2),
      '--secondary-region',
      'us-west-2',
      '--distribution-id',
      distributionId,
    ]);
    await expect(discoverDeployment(wrongRegion, clients)).rejects.toThrow(
      /no member cluster in us-west-2 .*--secondary-cluster-arn/,
    );
  });

  it('in a disaster, does not need the file system of the region it leaves', async () => {
    const unreachable = parseSwitchArgs('failover', [
      ...requestArgs(distributionId),
      '--mode',
      'disaster',
      '--primary-file-system',
      'fs-0aaaaaaaaaaaaaaa1',
    ]);
    const known = await discoverDeployment(unreachable, clients);
    expect(known.primary.fileSystemId).toBe('fs-0aaaaaaaaaaaaaaa1');
    // A region without such a file system stands for one that does not answer.
    const lost = parseSwitchArgs('failover', [
      '--primary-region',
      'us-west-2',
      '--secondary-region',
      SECONDARY,
      '--distribution-id',
      distributionId,
      '--primary-cluster-arn',
      'arn:aws:rds:us-west-2:123456789012:cluster:gone',
      '--mode',
      'disaster',
    ]);
    const deployment = await discoverDeployment(lost, clients);
    expect(deployment.primary.fileSystemId).toBe('<file system in us-west-2: not reachable>');
    expect(deployment.secondary.fileSystemId).toMatch(/^fs-/);
    await expect(discoverDeployment({ ...lost, mode: 'planned' }, clients)).rejects.toThrow(
      /Expected one EFS file system named 'ghost-ha-content' in us-west-2, found 0; pass --primary-file-system/,
    );
  });

  it('moves Ghost, the CloudFront origin order and the alarms to the secondary and back', async () => {
    const deployment: Deployment = await discoverDeployment(request('failover'), clients);
    const lines: string[] = [];
    const failover = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    expect(failover.steps.map((s) => s.id)).toEqual([
      'stop-ghost-eu-west-1',
      'start-ghost-eu-central-1',
      'switch-cloudfront',
      'switch-alarms',
    ]);
    await applyPlan(failover, clients, FAST, (line) => lines.push(line));

    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    const switched = await distributionConfig(distributionId);
    expect(switched.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual([
      `alb-${SECONDARY}`,
      `alb-${PRIMARY}`,
    ]);
    expect(switched.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${SECONDARY}`);
    expect(await alarmActions(SECONDARY)).toEqual([true, true, true, true]);
    expect(await alarmActions(PRIMARY)).toEqual([false, false, false, false]);
    expect(lines.filter((l) => / ok, /.test(l))).toHaveLength(4);
    expect(lines).toContainEqual(expect.stringMatching(/start-ghost-eu-central-1: ok, .*targets healthy 1/));

    await applyPlan(stepsMotoImplements(planSwitch(deployment, 'failback', 'planned')), clients, FAST, () => {});
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 0, running: 0 });
    const back = await distributionConfig(distributionId);
    expect(back.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual([
      `alb-${PRIMARY}`,
      `alb-${SECONDARY}`,
    ]);
    expect(back.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${PRIMARY}`);
    expect(await alarmActions(PRIMARY)).toEqual([true, true, true, true]);
  });

  it('fails the start when the ALB never reports the new task healthy, saying where to look', async () => {
    const elbv2 = new ElasticLoadBalancingV2Client({ region: SECONDARY });
    await elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: targetGroups.get(SECONDARY),
        Targets: [{ Id: '10.20.0.10', Port: 8080 }],
      }),
    );
    const deployment = await discoverDeployment(request('failover'), clients);
    const plan = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    const failure = await applyPlan(plan, clients, FAST, () => {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as StepFailedError).stepId).toBe('start-ghost-eu-central-1');
    expect((failure as Error).message).toMatch(
      /Timed out .* waiting for Ghost to become healthy in eu-central-1 .*targets none registered/,
    );
    expect((failure as StepFailedError).next).toMatch(/health-sidecar's \/health output/);
    // The run stopped there: CloudFront still sends to the primary.
    const config = await distributionConfig(distributionId);
    expect(config.OriginGroups?.Items?.[0]?.Members?.Items?.[0]?.OriginId).toBe(`alb-${PRIMARY}`);
  });

  it('applying a step twice changes nothing the second time', async () => {
    const deployment = await discoverDeployment(request('failover'), clients);
    const plan = stepsMotoImplements(planSwitch(deployment, 'failover', 'planned'));
    await applyPlan(plan, clients, FAST, () => {});
    const before = await distributionConfig(distributionId);
    await applyPlan(plan, clients, FAST, () => {});
    expect(await distributionConfig(distributionId)).toEqual(before);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
  });

  it('stops at the first failing step with what to do next, changing nothing after it', async () => {
    // moto has no FailoverGlobalCluster: the disaster run stops Ghost in the primary, then fails there.
    let out = '';
    let err = '';
    const code = await runSwitch(['failover', '--mode', 'disaster', '--apply', ...requestArgs(distributionId)], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      pacing: FAST,
      clients,
    });
    expect(code).toBe(1);
    expect(out).toMatch(/1\/9 preflight: ok/);
    expect(out).toMatch(/3\/9 stop-ghost-eu-west-1: ok/);
    expect(err).toMatch(/Step 4\/9 promote-database failed/);
    expect(err).toMatch(/What to do next: Read the global database's events in eu-central-1/);
    expect(out).not.toMatch(/5\/9/);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 0, running: 0 });
    const unchanged = await distributionConfig(distributionId);
    expect(unchanged.OriginGroups?.Items?.[0]?.Members?.Items?.[0]?.OriginId).toBe(`alb-${PRIMARY}`);
  });

  it('a planned failover refuses to start when the secondary file system receives no replication', async () => {
    let err = '';
    const code = await runSwitch(['failover', '--apply', ...requestArgs(distributionId)], {
      out: () => {},
      err: (t) => (err += t),
      pacing: FAST,
      clients,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/Step 1\/9 preflight failed/);
    expect(err).toMatch(/What to do next: Nothing was changed/);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });
});

function requestArgs(distributionId: string): string[] {
  return ['--primary-region', PRIMARY, '--secondary-region', SECONDARY, '--distribution-id', distributionId];
}
