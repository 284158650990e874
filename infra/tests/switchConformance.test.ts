// @module-tag integration
import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import type { ExecuteStatementCommandInput } from '@aws-sdk/client-rds-data';
import { type ApiInput, validateAwsInputs } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';
import {
  type AwsCall,
  awsCall,
  isRuntimeCall,
  type PlannedCall,
  type RuntimeCall,
  serviceAndOperation,
} from '../src/switch/AwsCall.js';
import { activateOrigin } from '../src/switch/activateOrigin.js';
import { planReprotect } from '../src/switch/planReprotect.js';
import { planSwitch } from '../src/switch/planSwitch.js';
import type { SwitchPlan } from '../src/switch/SwitchStep.js';
import { LAG_METRICS, lagMetricCall } from '../src/switch/steps/measureDataLoss.js';
import { HEARTBEAT_SQL } from '../src/switch/steps/readRpo.js';
import { copySnapshotCall } from '../src/switch/steps/salvageContent.js';
import { updateDistributionCall } from '../src/switch/steps/switchCloudFront.js';
import { EXAMPLE_DEPLOYMENT } from './support/exampleDeployment.js';

// Identifiers shaped as AWS issues them.
const DEPLOYMENT = EXAMPLE_DEPLOYMENT;

const PLANS: SwitchPlan[] = [
  ...(['failover', 'failback'] as const).flatMap((direction) =>
    (['planned', 'disaster'] as const).map((mode) => planSwitch(DEPLOYMENT, direction, mode)),
  ),
  // reprotect, with Ghost in either region
  planReprotect(DEPLOYMENT, DEPLOYMENT.secondary, DEPLOYMENT.primary, false),
  planReprotect(DEPLOYMENT, DEPLOYMENT.primary, DEPLOYMENT.secondary, false),
];

/** A distribution config as GetDistributionConfig returns it for the edge stack, in either shape. */
function distributionConfig(groupMembers: readonly string[]): DistributionConfig {
  const alb = (region: string) => ({
    Id: `alb-${region}`,
    DomainName: `ghost-ha-alb-1234567890.${region}.elb.amazonaws.com`,
    OriginPath: '',
    CustomHeaders: { Quantity: 1, Items: [{ HeaderName: 'X-Origin-Verify', HeaderValue: 'token' }] },
    CustomOriginConfig: {
      HTTPPort: 80,
      HTTPSPort: 443,
      OriginProtocolPolicy: 'https-only' as const,
      OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2' as const] },
      OriginReadTimeout: 30,
      OriginKeepaliveTimeout: 5,
    },
    ConnectionAttempts: 3,
    ConnectionTimeout: 10,
  });
  const behavior = {
    ViewerProtocolPolicy: 'redirect-to-https' as const,
    AllowedMethods: {
      Quantity: 7,
      Items: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'] as ('GET' | 'HEAD' | 'OPTIONS')[],
      CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] as ('GET' | 'HEAD')[] },
    },
    Compress: true,
    CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
    OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
  };
  return {
    CallerReference: 'ghost-ha-edge-2026',
    Aliases: { Quantity: 1, Items: ['blog.example.com'] },
    Comment: 'ghost-ha',
    Enabled: true,
    Origins: {
      Quantity: 3,
      Items: [
        alb('eu-west-1'),
        alb('eu-central-1'),
        {
          Id: 'mirror-eu-west-1',
          DomainName: 'ghost-ha-mirror.s3.eu-west-1.amazonaws.com',
          S3OriginConfig: { OriginAccessIdentity: '' },
          OriginAccessControlId: 'E1OACEXAMPLE1',
        },
      ],
    },
    OriginGroups: {
      Quantity: 1,
      Items: [
        {
          Id: 'ghost-site',
          FailoverCriteria: { StatusCodes: { Quantity: 4, Items: [500, 502, 503, 504] } },
          Members: { Quantity: groupMembers.length, Items: groupMembers.map((OriginId) => ({ OriginId })) },
        },
      ],
    },
    DefaultCacheBehavior: { TargetOriginId: 'ghost-site', ...behavior },
    CacheBehaviors: {
      Quantity: 2,
      Items: [
        { PathPattern: '/ghost/*', TargetOriginId: 'alb-eu-west-1', ...behavior },
        { PathPattern: '/members/*', TargetOriginId: 'alb-eu-west-1', ...behavior },
      ],
    },
    PriceClass: 'PriceClass_100',
    HttpVersion: 'http2and3',
    IsIPV6Enabled: true,
    ViewerCertificate: {
      ACMCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    },
    WebACLId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/ghost-ha/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  };
}

const SHAPES = {
  'both ALBs in the group': distributionConfig(['alb-eu-west-1', 'alb-eu-central-1']),
  'active ALB and a static mirror': distributionConfig(['alb-eu-west-1', 'mirror-eu-west-1']),
};

/** A call completed at run time, completed here the way the step completes it. */
function complete(plan: SwitchPlan, call: RuntimeCall): AwsCall[] {
  switch (call.operation) {
    case 'elbv2:DescribeTargetHealth':
      return [
        {
          operation: call.operation,
          region: call.region,
          input: {
            TargetGroupArn: `arn:aws:elasticloadbalancing:${call.region}:123456789012:targetgroup/ghost-ha-gate/0123456789abcdef`,
          },
          readOnly: true,
        },
      ];
    case 'cloudfront:UpdateDistribution':
      return Object.values(SHAPES).map((config) =>
        updateDistributionCall(
          DEPLOYMENT,
          'E2QWRUHAPOMQZL',
          activateOrigin(config, plan.to.originId, plan.from.originId),
        ),
      );
    case 'cloudwatch:GetMetricStatistics':
      return LAG_METRICS.map((metric) => lagMetricCall(plan.to, metric, Date.UTC(2026, 10, 26, 14, 0)));
    case 'rds-data:ExecuteStatement':
      return [
        awsCall(
          'rds-data:ExecuteStatement',
          call.region,
          {
            ...(call.known as ExecuteStatementCommandInput),
            resourceArn: plan.to.clusterArn,
            sql: HEARTBEAT_SQL,
            secretArn: `arn:aws:secretsmanager:${call.region}:123456789012:secret:ghost-ha/database-app-AbCdEf`,
          },
          true,
        ),
      ];
    case 'ecs:DescribeTaskDefinition':
      return [plan.to.ecsService, plan.to.invalidatorService].map((family) =>
        awsCall(
          'ecs:DescribeTaskDefinition',
          call.region,
          { taskDefinition: `arn:aws:ecs:${call.region}:123456789012:task-definition/${family}:7` },
          true,
        ),
      );
    case 'ecr:DescribeImages':
      return ['ghost', 'health-sidecar', 'cache-invalidator'].map((name) =>
        awsCall(
          'ecr:DescribeImages',
          call.region,
          {
            registryId: '123456789012',
            repositoryName: `ghost-ha/${name}`,
            imageIds: [{ imageDigest: `sha256:${'0a'.repeat(32)}` }],
          },
          true,
        ),
      );
    case 'backup:DescribeBackupJob':
      return [
        awsCall('backup:DescribeBackupJob', call.region, { BackupJobId: '0F2D0C4E-6E3B-4A8B-B9F4-2B2C6E0E1D3A' }, true),
      ];
    case 'rds:CopyDBClusterSnapshot':
      return [
        copySnapshotCall(
          DEPLOYMENT.project,
          plan.to,
          'rds:unplanned-global-failover-ghost-ha-data-primary-auroracluster-1a2b3c4d5e6f-2026-12-06-22-50',
        ),
      ];
    default:
      throw new Error(`No completion for the run-time call ${call.operation}: add one to this test`);
  }
}

function asApiInput(call: AwsCall): ApiInput {
  const [service, operation] = serviceAndOperation(call.operation);
  return { service, operation, input: JSON.parse(JSON.stringify(call.input)) };
}

async function problemsOf(calls: readonly AwsCall[]): Promise<string[]> {
  const results = await validateAwsInputs(calls.map(asApiInput));
  const problems = calls.flatMap((call, i) =>
    results[i] ? [`${call.operation} @${call.region} ${JSON.stringify(call.input)}\n${results[i]}`] : [],
  );
  return [...new Set(problems)];
}

describe("every call of every switch plan is valid against AWS's API models (botocore)", () => {
  it.each(PLANS.map((plan) => [`${plan.direction} ${plan.mode}`, plan] as const))('%s', async (_name, plan) => {
    const listed: PlannedCall[] = plan.steps.flatMap((step) => [...step.calls]);
    const calls = listed.flatMap((call) => (isRuntimeCall(call) ? complete(plan, call) : [call]));
    expect(calls.length).toBeGreaterThan(listed.length - 1);
    expect(await problemsOf(calls)).toEqual([]);
  });

  it('covers every operation the switch can send', () => {
    const operations = new Set(PLANS.flatMap((p) => p.steps.flatMap((s) => s.calls.map((c) => c.operation))));
    expect([...operations].sort()).toEqual([
      'backup:DescribeBackupJob',
      'backup:StartBackupJob',
      'cloudfront:GetDistribution',
      'cloudfront:GetDistributionConfig',
      'cloudfront:UpdateDistribution',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:DisableAlarmActions',
      'cloudwatch:EnableAlarmActions',
      'cloudwatch:GetMetricStatistics',
      'ecr:DescribeImages',
      'ecs:DescribeServices',
      'ecs:DescribeTaskDefinition',
      'ecs:UpdateService',
      'efs:CreateReplicationConfiguration',
      'efs:DeleteReplicationConfiguration',
      'efs:DescribeFileSystems',
      'efs:DescribeReplicationConfigurations',
      'efs:UpdateFileSystemProtection',
      'elbv2:DescribeTargetHealth',
      'rds-data:ExecuteStatement',
      'rds:CopyDBClusterSnapshot',
      'rds:DescribeDBClusterSnapshots',
      'rds:DescribeDBClusters',
      'rds:DescribeGlobalClusters',
      'rds:FailoverGlobalCluster',
      'rds:SwitchoverGlobalCluster',
      's3:ListObjectsV2',
      'secretsmanager:DescribeSecret',
    ]);
  });

  it("check-mirror's next listing page (ContinuationToken) is valid too", async () => {
    const call = awsCall('s3:ListObjectsV2', 'eu-central-1', {
      Bucket: 'ghost-ha-mirror-123456789012-eu-central-1',
      Prefix: 'site/',
      ContinuationToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    });
    expect(await problemsOf([call])).toEqual([]);
  });

  it('a wrong or missing member is a compile error (tsc checks this file)', () => {
    const wrong = awsCall(
      'efs:DeleteReplicationConfiguration',
      'eu-central-1',
      // @ts-expect-error FileSystemId is not a member of DeleteReplicationConfigurationRequest.
      { FileSystemId: 'fs-0f1e2d3c4b5a69788' },
    );
    expect(wrong.operation).toBe('efs:DeleteReplicationConfiguration');
  });

  it('refuses the input the switch used to send (FileSystemId instead of SourceFileSystemId)', async () => {
    const [report] = await validateAwsInputs([
      { service: 'efs', operation: 'DeleteReplicationConfiguration', input: { FileSystemId: 'fs-0f1e2d3c4b5a69788' } },
    ]);
    expect(report).toMatch(/Missing required parameter in input: "SourceFileSystemId"/);
    expect(report).toMatch(/Unknown parameter in input: "FileSystemId"/);
  });
});
