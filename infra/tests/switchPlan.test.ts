import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';
import { activateOrigin, isOriginActive } from '../src/switch/activateOrigin.js';
import { runSwitch } from '../src/switch/runSwitch.js';
import { HEARTBEAT_SQL } from '../src/switch/steps/readRpo.js';
import { STOP_SECONDS } from '../src/switch/steps/scaleService.js';

const IDENTIFIERS = [
  '--primary-region',
  'eu-west-1',
  '--secondary-region',
  'eu-central-1',
  '--distribution-id',
  'E2ABCDEF123456',
  '--primary-cluster-arn',
  'arn:aws:rds:eu-west-1:123456789012:cluster:ghost-primary',
  '--secondary-cluster-arn',
  'arn:aws:rds:eu-central-1:123456789012:cluster:ghost-secondary',
  '--primary-file-system',
  'fs-0aaaaaaaaaaaaaaa1',
  '--secondary-file-system',
  'fs-0bbbbbbbbbbbbbbb2',
];

/** Runs the tool in plan mode with every identifier given, so it never calls AWS. */
async function plan(...argv: string[]) {
  let out = '';
  let err = '';
  // An endpoint nothing listens on: a call to AWS would fail the run instead of reaching a real account.
  const saved = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
  try {
    const code = await runSwitch(argv, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err, steps: [...out.matchAll(/^\d+\. .*\((\S+)\)$/gm)].map((m) => m[1]) };
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
  }
}

describe('what the plans take from elsewhere', () => {
  it("reads the health-sidecar's heartbeat table", () => {
    const sidecar = readFileSync(
      join(import.meta.dirname, '..', '..', 'services', 'health-sidecar', 'src', 'HeartbeatWriteCheck.ts'),
      'utf8',
    );
    const table = sidecar.match(/export const HEARTBEAT_TABLE = '([a-z_]+)'/)?.[1];
    expect(table).toBe('ghost_ha_heartbeat');
    expect(HEARTBEAT_SQL).toContain(`FROM ${table} `);
    expect(sidecar).toMatch(/holder VARCHAR\(255\) NOT NULL PRIMARY KEY,\s+written_at DATETIME\(6\)/);
  });

  it("budgets Ghost's stop from the app stack: the longest container StopTimeout and the ALB deregistration delay", () => {
    const app = loadTemplate('app');
    const task = Object.values(app.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition');
    const stopTimeouts = (task?.Properties?.ContainerDefinitions ?? []).map(
      (c: { StopTimeout?: number }) => c.StopTimeout ?? 30,
    );
    const group = Object.values(app.Resources).find((r) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup');
    const delay = Number(
      (group?.Properties?.TargetGroupAttributes ?? []).find(
        (a: { Key: string }) => a.Key === 'deregistration_delay.timeout_seconds',
      )?.Value ?? 300,
    );
    expect(STOP_SECONDS).toBe(Math.max(...stopTimeouts) + delay);
  });
});

describe('failover/failback plan', () => {
  it('planned failover: stop, let EFS catch up, switchover, make the replica writable, start, CloudFront, alarms', async () => {
    const { code, out, steps } = await plan('failover', ...IDENTIFIERS);
    expect(code).toBe(0);
    expect(steps).toEqual([
      'preflight',
      'check-mirror',
      'salvage-eu-central-1',
      'repair-replication',
      'stop-ghost-eu-west-1',
      'stop-invalidator-eu-west-1',
      'sync-and-promote',
      'writable-and-rpo',
      'start-invalidator-eu-central-1',
      'start-and-route',
      'restore-pilot-light',
      'switch-alarms',
    ]);
    expect(out).toContain('Plan only: nothing is changed');
    expect(out.slice(out.indexOf('(check-mirror)'), out.indexOf('(repair-replication)'))).toContain(
      'read  s3:ListObjectsV2 @eu-central-1 {"Bucket":"ghost-ha-mirror-123456789012-eu-central-1","Prefix":"site/"}',
    );
    expect(out.slice(out.indexOf('(restore-pilot-light)'))).toContain(
      'WRITE efs:CreateReplicationConfiguration @eu-central-1 {"SourceFileSystemId":"fs-0bbbbbbbbbbbbbbb2","Destinations":[{"Region":"eu-west-1","FileSystemId":"fs-0aaaaaaaaaaaaaaa1"}]}',
    );
    expect(out).toContain(
      'WRITE ecs:UpdateService @eu-west-1 {"cluster":"ghost-ha","service":"ghost-ha-ghost","desiredCount":0}',
    );
    expect(out).toContain(
      'WRITE rds:SwitchoverGlobalCluster @eu-central-1 {"GlobalClusterIdentifier":"ghost-ha-global","TargetDbClusterIdentifier":"arn:aws:rds:eu-central-1:123456789012:cluster:ghost-secondary"}',
    );
    expect(out).not.toContain('FailoverGlobalCluster');
    expect(out).toContain(
      'WRITE efs:DeleteReplicationConfiguration @eu-central-1 {"SourceFileSystemId":"fs-0aaaaaaaaaaaaaaa1"}',
    );
    expect(out).toContain(
      'WRITE ecs:UpdateService @eu-central-1 {"cluster":"ghost-ha","service":"ghost-ha-ghost","desiredCount":1,"forceNewDeployment":true}',
    );
    // The cache-invalidator's own service: stopped after Ghost in the region left, started before it.
    expect(out).toContain(
      'WRITE ecs:UpdateService @eu-west-1 {"cluster":"ghost-ha","service":"ghost-ha-cache-invalidator","desiredCount":0}',
    );
    expect(out).toContain(
      'WRITE ecs:UpdateService @eu-central-1 {"cluster":"ghost-ha","service":"ghost-ha-cache-invalidator","desiredCount":1,"forceNewDeployment":true}',
    );
    expect(out.slice(out.indexOf('(preflight)'), out.indexOf('(check-mirror)'))).toContain(
      'read  ecs:DescribeServices @eu-central-1 {"cluster":"ghost-ha","services":["ghost-ha-cache-invalidator"]}',
    );
    expect(out).toContain(
      `read  elbv2:DescribeTargetHealth @eu-central-1 {} + TargetGroupArn: the service's target group`,
    );
    expect(out).toContain('alb-eu-central-1 first in the origin group (in place of alb-eu-west-1');
    expect(out).toContain('WRITE cloudwatch:EnableAlarmActions @eu-central-1');
    // Every step says what is verified and what to do if it fails.
    expect(out.match(/^ {3}verify: /gm)).toHaveLength(steps.length);
    expect(out.match(/^ {3}if it fails: /gm)).toHaveLength(steps.length);
    expect(out.match(/^ {3}expected: \d+ (s|min)( \d+ s)? \(.+\)$/gm)).toHaveLength(steps.length);
    // Writes stop with Ghost and resume once CloudFront sends them to the new region.
    // Independent steps run at once: the EFS catch-up beside the switchover, the RPO reading beside
    // the replica's deletion, Ghost's start beside CloudFront's change. The stop's budget is the
    // app stack's (longest container StopTimeout and the ALB deregistration delay).
    expect(out).toMatch(
      /^RTO on paper: 29 min without writes \(stop-ghost-eu-west-1 1 min 15 s \+ stop-invalidator-eu-west-1 45 s \+ sync-and-promote 15 min \+ writable-and-rpo 5 min \+ start-invalidator-eu-central-1 1 min 30 s \+ start-and-route 5 min\)/m,
    );
    expect(out).toContain(
      `read  rds-data:ExecuteStatement @eu-central-1 {"resourceArn":"arn:aws:rds:eu-central-1:123456789012:cluster:ghost-secondary","database":"ghost","sql":"SELECT holder, DATE_FORMAT(written_at, '%Y-%m-%d %H:%i:%s.%f') FROM ghost_ha_heartbeat ORDER BY written_at DESC LIMIT 1"} + secretArn`,
    );
  });

  it('disaster failover: best-effort stop, Aurora failover allowing data loss, local-only replication delete', async () => {
    const { code, out, steps } = await plan('failover', '--mode', 'disaster', ...IDENTIFIERS);
    expect(code).toBe(0);
    expect(steps).toEqual([
      'preflight',
      'measure-data-loss',
      'route-writes-away',
      'check-mirror',
      'stop-and-promote',
      'writable-and-rpo',
      'start-invalidator-eu-central-1',
      'start-and-route',
      'switch-alarms',
      'fence-eu-west-1',
    ]);
    expect(out).toMatch(
      /Stop Ghost and the cache-invalidator in eu-west-1 \(best effort, bounded\) while the database fails over to eu-central-1/,
    );
    const stopAndPromote = out.slice(out.indexOf('(stop-and-promote)'), out.indexOf('(writable-and-rpo)'));
    expect(stopAndPromote).toContain(
      'WRITE ecs:UpdateService @eu-west-1 {"cluster":"ghost-ha","service":"ghost-ha-cache-invalidator","desiredCount":0}',
    );
    // The region that returns keeps both services at 0.
    expect(out.slice(out.indexOf('(fence-eu-west-1)'))).toContain(
      'WRITE ecs:UpdateService @eu-west-1 {"cluster":"ghost-ha","service":"ghost-ha-cache-invalidator","desiredCount":0}',
    );
    expect(out).toMatch(/Stop sending writes to eu-west-1: .* \[best effort\]/);
    // The marker comes from the step's bestEffort flag, once per step line, never also from its title.
    const stepLines = out.split('\n').filter((line) => /^\d+\. /.test(line));
    expect(stepLines.filter((line) => line.includes('[best effort]'))).toEqual(
      stepLines.filter((line) => /\((measure-data-loss|route-writes-away|fence-eu-west-1)\)$/.test(line)),
    );
    for (const line of stepLines) expect(line.split('[best effort]').length, line).toBeLessThanOrEqual(2);
    expect(out).toContain(
      'read  cloudwatch:GetMetricStatistics @eu-central-1 {"Namespace":"AWS/RDS","MetricName":"AuroraGlobalDBRPOLag","Dimensions":[{"Name":"DBClusterIdentifier","Value":"ghost-secondary"}],"Period":60,"Statistics":["Maximum"]} + StartTime/EndTime: the last 15 minutes',
    );
    expect(out).toMatch(
      /When eu-west-1 returns: keep its Ghost and its cache-invalidator at 0 and its origin out of the write path \[best effort\]/,
    );
    expect(out).toMatch(
      /^RTO on paper: 13 min without writes \(preflight 10 s \+ measure-data-loss 10 s \+ route-writes-away 10 s \+ check-mirror 5 s \+ stop-and-promote 1 min 15 s \+ writable-and-rpo 5 min \+ start-invalidator-eu-central-1 1 min 30 s \+ start-and-route 5 min\)/m,
    );
    expect(out).toContain(
      'WRITE rds:FailoverGlobalCluster @eu-central-1 {"GlobalClusterIdentifier":"ghost-ha-global","TargetDbClusterIdentifier":"arn:aws:rds:eu-central-1:123456789012:cluster:ghost-secondary","AllowDataLoss":true}',
    );
    expect(out).toContain(
      'WRITE efs:DeleteReplicationConfiguration @eu-central-1 {"SourceFileSystemId":"fs-0aaaaaaaaaaaaaaa1","DeletionMode":"LOCAL_CONFIGURATION_ONLY"}',
    );
    expect(out).not.toContain('SwitchoverGlobalCluster');
  });

  it('planned failback: replicate content back first, then switch, then restore the pilot light', async () => {
    const { code, out, steps } = await plan('failback', ...IDENTIFIERS);
    expect(code).toBe(0);
    expect(steps).toEqual([
      'preflight',
      'check-mirror',
      'salvage-eu-west-1',
      'repair-replication',
      'bring-content-back',
      'stop-ghost-eu-central-1',
      'stop-invalidator-eu-central-1',
      'sync-and-promote',
      'writable-and-rpo',
      'start-invalidator-eu-west-1',
      'start-and-route',
      'restore-pilot-light',
      'switch-alarms',
    ]);
    const bringBack = out.slice(out.indexOf('(bring-content-back)'), out.indexOf('(stop-ghost-eu-central-1)'));
    expect(bringBack).toContain(
      'WRITE efs:UpdateFileSystemProtection @eu-west-1 {"FileSystemId":"fs-0aaaaaaaaaaaaaaa1","ReplicationOverwriteProtection":"DISABLED"}',
    );
    expect(bringBack).toContain(
      'WRITE efs:CreateReplicationConfiguration @eu-central-1 {"SourceFileSystemId":"fs-0bbbbbbbbbbbbbbb2","Destinations":[{"Region":"eu-west-1","FileSystemId":"fs-0aaaaaaaaaaaaaaa1"}]}',
    );
    const restore = out.slice(out.indexOf('(restore-pilot-light)'));
    expect(restore).toContain(
      'WRITE efs:CreateReplicationConfiguration @eu-west-1 {"SourceFileSystemId":"fs-0aaaaaaaaaaaaaaa1","Destinations":[{"Region":"eu-central-1","FileSystemId":"fs-0bbbbbbbbbbbbbbb2"}]}',
    );
    expect(out).toContain(
      'WRITE rds:SwitchoverGlobalCluster @eu-west-1 {"GlobalClusterIdentifier":"ghost-ha-global","TargetDbClusterIdentifier":"arn:aws:rds:eu-west-1:123456789012:cluster:ghost-primary"}',
    );
    expect(out).toContain(
      'WRITE efs:DeleteReplicationConfiguration @eu-west-1 {"SourceFileSystemId":"fs-0bbbbbbbbbbbbbbb2"}',
    );
    // What exists only in the primary's file system is backed up before anything overwrites it.
    const salvage = out.slice(out.indexOf('(salvage-eu-west-1)'), out.indexOf('(repair-replication)'));
    expect(salvage).toContain(
      'WRITE backup:StartBackupJob @eu-west-1 {"BackupVaultName":"ghost-ha-content","ResourceArn":"arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0aaaaaaaaaaaaaaa1","IamRoleArn":"arn:aws:iam::123456789012:role/ghost-ha-backup-eu-west-1","StartWindowMinutes":60,"RecoveryPointTags":{"purpose":"salvage-before-overwrite"}}',
    );
    expect(salvage).toContain(
      'read  rds:DescribeDBClusterSnapshots @eu-west-1 {"DBClusterIdentifier":"ghost-primary"}',
    );
    // A leftover of a disaster failover on the primary's file system is removed on its side only.
    const repair = out.slice(out.indexOf('(repair-replication)'), out.indexOf('(bring-content-back)'));
    expect(repair).toContain(
      'WRITE efs:DeleteReplicationConfiguration @eu-west-1 {"SourceFileSystemId":"fs-0aaaaaaaaaaaaaaa1","DeletionMode":"LOCAL_CONFIGURATION_ONLY"}',
    );
  });

  it('disaster failback: no content from the lost region, database failover, best-effort pilot light', async () => {
    const { code, out, steps } = await plan('failback', '--mode=disaster', ...IDENTIFIERS);
    expect(code).toBe(0);
    expect(steps).toEqual([
      'preflight',
      'measure-data-loss',
      'route-writes-away',
      'check-mirror',
      'stop-and-promote',
      'writable-and-rpo',
      'start-invalidator-eu-west-1',
      'start-and-route',
      'switch-alarms',
      'fence-eu-central-1',
    ]);
    expect(out).toContain('WRITE rds:FailoverGlobalCluster @eu-west-1');
    // The lost region's file system holds uploads that exist only there: nothing replicates into
    // it here; the fence makes it read-only until the salvage before the next replication.
    expect(out).not.toContain('(restore-pilot-light)');
    expect(out).toContain(
      'WRITE efs:UpdateFileSystemProtection @eu-central-1 {"FileSystemId":"fs-0bbbbbbbbbbbbbbb2","ReplicationOverwriteProtection":"DISABLED"}',
    );
  });

  it('uses the project name for the ECS names, origin ids, alarms and global database', async () => {
    const { out } = await plan('failover', '--project', 'blog', ...IDENTIFIERS);
    expect(out).toContain('{"cluster":"blog","service":"blog-ghost","desiredCount":0}');
    expect(out).toContain('{"cluster":"blog","service":"blog-cache-invalidator","desiredCount":0}');
    expect(out).toContain('{"GlobalClusterIdentifier":"blog-global"');
    expect(out).toContain(
      '"AlarmNames":["blog-health-verdict","blog-health-verdict-fail","blog-ecs-cpu","blog-ecs-memory","blog-invalidator-not-running"]',
    );
  });

  it('prints its usage on --help', async () => {
    const { code, out } = await plan('failback', '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: failover\.sh\|failback\.sh/);
    expect(out).toContain('--mode planned|disaster');
  });

  it.each([
    [
      ['failover', '--primary-region', 'eu-west-1', '--secondary-region', 'eu-central-1'],
      /--distribution-id is required, e\.g\. --distribution-id E2ABCDEF123456/,
    ],
    [['failover', ...IDENTIFIERS, '--mode', 'fast'], /--mode 'fast' is not valid, e\.g\. --mode planned/],
    [['failover', ...IDENTIFIERS, '--secondary-region', 'eu-west-1'], /must differ/],
    [['failover', ...IDENTIFIERS, '--force'], /Unknown argument '--force'/],
    [['failover', ...IDENTIFIERS, '--project'], /--project needs a value/],
    [['switch', ...IDENTIFIERS], /must be 'failover', 'failback' or 'reprotect'/],
  ])('rejects a bad command line with exit code 2 and what to fix: %j', async (argv, message) => {
    const { code, err, out } = await plan(...argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(out).toBe('');
  });
});

describe('activateOrigin', () => {
  const config: DistributionConfig = {
    CallerReference: 'x',
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 2,
      Items: [
        { Id: 'alb-a', DomainName: 'a' },
        { Id: 'alb-b', DomainName: 'b' },
      ],
    },
    OriginGroups: {
      Quantity: 1,
      Items: [
        {
          Id: 'regions',
          FailoverCriteria: { StatusCodes: { Quantity: 1, Items: [503] } },
          Members: { Quantity: 2, Items: [{ OriginId: 'alb-a' }, { OriginId: 'alb-b' }] },
        },
      ],
    },
    DefaultCacheBehavior: { TargetOriginId: 'regions', ViewerProtocolPolicy: 'redirect-to-https' },
    CacheBehaviors: {
      Quantity: 2,
      Items: [
        { PathPattern: '/ghost/*', TargetOriginId: 'alb-a', ViewerProtocolPolicy: 'https-only' },
        { PathPattern: '/assets/*', TargetOriginId: 'regions', ViewerProtocolPolicy: 'https-only' },
      ],
    },
  };

  it('puts the active origin first and moves single-origin behaviors to it', () => {
    const switched = activateOrigin(config, 'alb-b', 'alb-a');
    expect(switched.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual(['alb-b', 'alb-a']);
    expect(switched.CacheBehaviors?.Items?.map((b) => b.TargetOriginId)).toEqual(['alb-b', 'regions']);
    expect(switched.DefaultCacheBehavior?.TargetOriginId).toBe('regions');
    expect(switched.Origins).toEqual(config.Origins);
    expect(isOriginActive(config, 'alb-b', 'alb-a')).toBe(false);
    expect(isOriginActive(switched, 'alb-b', 'alb-a')).toBe(true);
    expect(activateOrigin(switched, 'alb-a', 'alb-b')).toEqual(config);
  });
});

describe('activateOrigin with a static mirror in the origin group', () => {
  // The edge template's second shape: the group holds the active region's ALB and a static S3
  // mirror; the standby ALB is an origin of the distribution but not a member of the group.
  const config: DistributionConfig = {
    CallerReference: 'x',
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 3,
      Items: [
        { Id: 'alb-eu-west-1', DomainName: 'a' },
        { Id: 'alb-eu-central-1', DomainName: 'b' },
        { Id: 'mirror-eu-west-1', DomainName: 'mirror.s3.eu-west-1.amazonaws.com' },
      ],
    },
    OriginGroups: {
      Quantity: 1,
      Items: [
        {
          Id: 'site',
          FailoverCriteria: { StatusCodes: { Quantity: 1, Items: [503] } },
          Members: { Quantity: 2, Items: [{ OriginId: 'alb-eu-west-1' }, { OriginId: 'mirror-eu-west-1' }] },
        },
      ],
    },
    DefaultCacheBehavior: { TargetOriginId: 'site', ViewerProtocolPolicy: 'redirect-to-https' },
    CacheBehaviors: {
      Quantity: 2,
      Items: [
        { PathPattern: '/ghost/*', TargetOriginId: 'alb-eu-west-1', ViewerProtocolPolicy: 'https-only' },
        { PathPattern: '/content/*', TargetOriginId: 'site', ViewerProtocolPolicy: 'https-only' },
      ],
    },
  };
  const members = (c: DistributionConfig) => c.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId);

  it('puts the active ALB in the standby ALB place, keeps the mirror where it is, moves write paths', () => {
    const switched = activateOrigin(config, 'alb-eu-central-1', 'alb-eu-west-1');
    expect(members(switched)).toEqual(['alb-eu-central-1', 'mirror-eu-west-1']);
    expect(switched.CacheBehaviors?.Items?.map((b) => b.TargetOriginId)).toEqual(['alb-eu-central-1', 'site']);
    expect(switched.DefaultCacheBehavior?.TargetOriginId).toBe('site');
    expect(switched.Origins).toEqual(config.Origins);
    expect(isOriginActive(config, 'alb-eu-central-1', 'alb-eu-west-1')).toBe(false);
    expect(isOriginActive(switched, 'alb-eu-central-1', 'alb-eu-west-1')).toBe(true);
    expect(activateOrigin(switched, 'alb-eu-west-1', 'alb-eu-central-1')).toEqual(config);
  });

  it('keeps a mirror that is listed first in its place', () => {
    const mirrorFirst: DistributionConfig = {
      ...config,
      OriginGroups: {
        Quantity: 1,
        Items: [
          {
            Id: 'site',
            FailoverCriteria: { StatusCodes: { Quantity: 1, Items: [503] } },
            Members: { Quantity: 2, Items: [{ OriginId: 'mirror-eu-west-1' }, { OriginId: 'alb-eu-west-1' }] },
          },
        ],
      },
    };
    expect(members(activateOrigin(mirrorFirst, 'alb-eu-central-1', 'alb-eu-west-1'))).toEqual([
      'mirror-eu-west-1',
      'alb-eu-central-1',
    ]);
  });
});
