// @module-tag integration
// The upgrade's AWS calls (clone, one-off task, backup point, rollback) checked against AWS's API
// models through botocore, as the switch plans are; runs botocore in the project's Python venv.
import { type ApiInput, validateAwsInputs } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';
import {
  type AwsCall,
  type InputOf,
  isRuntimeCall,
  type Operation,
  type PlannedCall,
  serviceAndOperation,
} from '../src/switch/AwsCall.js';
import { identifierPart, upgradeCalls } from '../src/upgrade/aws/upgradeCalls.js';

const SITE = {
  project: 'ghost-ha',
  region: 'eu-west-1',
  clusterIdentifier: 'ghost-ha-data-cluster-1a2b3c4d5e6f',
  fileSystemId: 'fs-0123456789abcdef0',
  reportBucket: 'ghost-ha-backups-123456789012-eu-west-1',
};
const AT = new Date(Date.UTC(2026, 11, 6, 23, 5));
const CALLS = upgradeCalls(SITE, '5.130.6', '6.66.0', AT);
const ACCOUNT = '123456789012';
const NETWORK = {
  awsvpcConfiguration: {
    subnets: ['subnet-0a1b2c3d4e5f60718'],
    securityGroups: ['sg-0a1b2c3d4e5f60718'],
    assignPublicIp: 'DISABLED' as const,
  },
};

/** What the run time adds to each call completed then (read from AWS in a real run), by operation. */
const AT_RUN_TIME: { [K in Operation]?: Partial<InputOf<K>> } = {
  'rds:RestoreDBClusterToPointInTime': {
    DBSubnetGroupName: 'ghost-ha-data-databasesubnetgroup-abc',
    VpcSecurityGroupIds: ['sg-0a1b2c3d4e5f60718'],
  },
  'rds:RestoreDBClusterFromSnapshot': {
    DBSubnetGroupName: 'ghost-ha-data-databasesubnetgroup-abc',
    VpcSecurityGroupIds: ['sg-0a1b2c3d4e5f60718'],
  },
  'backup:StartRestoreJob': {
    RecoveryPointArn: `arn:aws:backup:eu-west-1:${ACCOUNT}:recovery-point:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9`,
    IamRoleArn: `arn:aws:iam::${ACCOUNT}:role/ghost-ha-data-BackupRole-ABC`,
    Metadata: {
      'file-system-id': SITE.fileSystemId,
      newFileSystem: 'true',
      Encrypted: 'true',
      PerformanceMode: 'generalPurpose',
    },
  },
  'ecs:RegisterTaskDefinition': {
    family: 'ghost-ha-ghost',
    containerDefinitions: [
      { name: 'ghost', image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ghost@sha256:${'a'.repeat(64)}` },
    ],
  },
  'ecs:RunTask': { taskDefinition: 'ghost-ha-upgrade-rehearsal:1', networkConfiguration: NETWORK },
  'ecs:StopTask': { task: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/ghost-ha/0a1b2c3d4e5f60718293a4b5c6d7e8f9` },
  'ecs:UpdateService': { taskDefinition: 'ghost-ha-ghost:42' },
  's3:PutObject': { Key: 'upgrade-reports/5.130.6-to-6.66.0/2026-12-06T23-05-00-000Z.json', Body: '{}' },
  'efs:DeleteFileSystem': { FileSystemId: 'fs-0fedcba9876543210' },
  'elbv2:CreateRule': {
    ListenerArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/ghost-ha/50dc6c495c0c9188/f2f7dc8efc522ab2`,
    Priority: 9,
    Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Origin-Verify', Values: ['t'] } }],
  },
  'elbv2:DeleteRule': {
    RuleArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener-rule/app/ghost-ha/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`,
  },
  'backup:StartBackupJob': {
    ResourceArn: `arn:aws:elasticfilesystem:eu-west-1:${ACCOUNT}:file-system/${SITE.fileSystemId}`,
    IamRoleArn: `arn:aws:iam::${ACCOUNT}:role/ghost-ha-data-BackupRole-ABC`,
  },
};

/** A planned call as the run sends it: the known part, then what the run time adds (what it knows wins). */
function complete(call: PlannedCall): AwsCall {
  if (!isRuntimeCall(call)) return call;
  const added = AT_RUN_TIME[call.operation];
  if (!added) throw new Error(`No completion for the run-time call ${call.operation}: add one to this test`);
  return { operation: call.operation, region: call.region, input: { ...added, ...call.known } } as AwsCall;
}

function asApiInput(call: AwsCall): ApiInput {
  const [service, operation] = serviceAndOperation(call.operation);
  return { service, operation, input: JSON.parse(JSON.stringify(call.input)) };
}

describe("the upgrade's AWS calls are valid against AWS's API models (botocore)", () => {
  it.each(Object.entries(CALLS))('%s', async (_step, listed) => {
    const calls = listed.map(complete);
    const results = await validateAwsInputs(calls.map(asApiInput));
    const problems = calls.flatMap((call, i) =>
      results[i] ? [`${call.operation} ${JSON.stringify(call.input)}\n${results[i]}`] : [],
    );
    expect(problems).toEqual([]);
  });

  it('the clone is copy-on-write from the latest restorable time, and each name is a valid RDS identifier', () => {
    const restore = CALLS.rehearse.find((call) => call.operation === 'rds:RestoreDBClusterToPointInTime');
    expect(restore && isRuntimeCall(restore) ? restore.known : undefined).toMatchObject({
      RestoreType: 'copy-on-write',
      UseLatestRestorableTime: true,
      SourceDBClusterIdentifier: SITE.clusterIdentifier,
    });
    expect(identifierPart('6.66.0', AT)).toBe('6-66-0-20261206t2305');
    // Letters, digits and hyphens, a letter first, no two hyphens together, none last, at most 63.
    const identifiers = Object.values(CALLS)
      .flat()
      .flatMap((call) => {
        const input = (isRuntimeCall(call) ? call.known : call.input) as Record<string, unknown>;
        return ['DBClusterIdentifier', 'DBInstanceIdentifier', 'DBClusterSnapshotIdentifier']
          .map((key) => input[key])
          .filter((value): value is string => typeof value === 'string');
      });
    expect(identifiers.length).toBeGreaterThan(5);
    for (const id of identifiers) expect(id).toMatch(/^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,61}[a-zA-Z0-9]$/);
  });

  it('refuses what a clone without RestoreType or source would send (the model catches it)', async () => {
    const [report] = await validateAwsInputs([
      {
        service: 'rds',
        operation: 'RestoreDBClusterToPointInTime',
        input: { DBClusterIdentifier: 'x', RestoreType: 'copy-on-write', UseLatestRestorableTime: 'yes' },
      },
    ]);
    expect(report).toMatch(/SourceDBClusterIdentifier|UseLatestRestorableTime/);
  });
});
