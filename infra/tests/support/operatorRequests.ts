import { loadTemplate } from '../../src/parseTemplate.js';
import { resolveConditions } from '../../src/resolveConditions.js';
import type { AwsCall, Operation, PlannedCall } from '../../src/switch/AwsCall.js';
import { isRuntimeCall } from '../../src/switch/AwsCall.js';
import { type PolicyRequest, type PolicyStatement, substitute } from './iamPolicy.js';

/** The operator stack's parameters for a deployment of project ghost-ha in eu-west-1/eu-central-1. */
export function operatorParameters(distributionId: string, account = '123456789012'): Record<string, string> {
  return {
    ProjectName: 'ghost-ha',
    PrimaryRegion: 'eu-west-1',
    SecondaryRegion: 'eu-central-1',
    DistributionId: distributionId,
    GlobalClusterIdentifier: 'ghost-ha-global',
    TrustedPrincipalArn: `arn:aws:iam::${account}:role/oncall`,
    CloudFormationRoleArn: `arn:aws:iam::${account}:role/ghost-ha-cloudformation`,
  };
}

/** The operator role's statements (infra/cloudformation/operator.yaml) as IAM sees them once deployed. */
export function operatorStatements(
  parameters: Readonly<Record<string, string>>,
  account = '123456789012',
): PolicyStatement[] {
  const template = resolveConditions(loadTemplate('operator'), parameters);
  const role = template.Resources.OperatorRole;
  const names = { ...parameters, 'AWS::Partition': 'aws', 'AWS::AccountId': account };
  const policies = substitute(role?.Properties?.Policies, names) as {
    PolicyDocument: { Statement: PolicyStatement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** What the request is made against: the account, and the tags of the file systems it touches. */
export interface RequestScope {
  readonly account: string;
  /** The project's content file systems carry Name <project>-content (data stacks). */
  readonly fileSystemName: string;
}

/**
 * The IAM action each switch operation is authorised as (Service Authorization Reference): the
 * botocore service names differ from IAM's prefixes for EFS and ELB, and S3 authorises
 * ListObjectsV2 as s3:ListBucket.
 */
export const IAM_ACTION: { readonly [K in Operation]: string } = {
  'rds:DescribeGlobalClusters': 'rds:DescribeGlobalClusters',
  'rds:DescribeDBClusters': 'rds:DescribeDBClusters',
  'rds:SwitchoverGlobalCluster': 'rds:SwitchoverGlobalCluster',
  'rds:FailoverGlobalCluster': 'rds:FailoverGlobalCluster',
  'efs:DescribeReplicationConfigurations': 'elasticfilesystem:DescribeReplicationConfigurations',
  'efs:DeleteReplicationConfiguration': 'elasticfilesystem:DeleteReplicationConfiguration',
  'efs:CreateReplicationConfiguration': 'elasticfilesystem:CreateReplicationConfiguration',
  'efs:UpdateFileSystemProtection': 'elasticfilesystem:UpdateFileSystemProtection',
  'ecs:UpdateService': 'ecs:UpdateService',
  'ecs:DescribeServices': 'ecs:DescribeServices',
  'ecs:DescribeTaskDefinition': 'ecs:DescribeTaskDefinition',
  'ecr:DescribeImages': 'ecr:DescribeImages',
  'elbv2:DescribeTargetHealth': 'elasticloadbalancing:DescribeTargetHealth',
  'cloudfront:GetDistributionConfig': 'cloudfront:GetDistributionConfig',
  'cloudfront:UpdateDistribution': 'cloudfront:UpdateDistribution',
  'cloudfront:GetDistribution': 'cloudfront:GetDistribution',
  'cloudwatch:DisableAlarmActions': 'cloudwatch:DisableAlarmActions',
  'cloudwatch:EnableAlarmActions': 'cloudwatch:EnableAlarmActions',
  'cloudwatch:DescribeAlarms': 'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricStatistics': 'cloudwatch:GetMetricStatistics',
  's3:ListObjectsV2': 's3:ListBucket',
  'rds:DescribeDBClusterSnapshots': 'rds:DescribeDBClusterSnapshots',
  'rds:CopyDBClusterSnapshot': 'rds:CopyDBClusterSnapshot',
  'efs:DescribeFileSystems': 'elasticfilesystem:DescribeFileSystems',
  'backup:StartBackupJob': 'backup:StartBackupJob',
  'backup:DescribeBackupJob': 'backup:DescribeBackupJob',
  'rds-data:ExecuteStatement': 'rds-data:ExecuteStatement',
  'secretsmanager:DescribeSecret': 'secretsmanager:DescribeSecret',
  // The upgrade's calls (infra/src/upgrade): apply's and rollback's are the operator role's, the rehearsal's on AWS are not.
  'rds:RestoreDBClusterToPointInTime': 'rds:RestoreDBClusterToPointInTime',
  'rds:RestoreDBClusterFromSnapshot': 'rds:RestoreDBClusterFromSnapshot',
  'rds:CreateDBInstance': 'rds:CreateDBInstance',
  'rds:DeleteDBInstance': 'rds:DeleteDBInstance',
  'rds:DeleteDBCluster': 'rds:DeleteDBCluster',
  'rds:CreateDBClusterSnapshot': 'rds:CreateDBClusterSnapshot',
  'ecs:RegisterTaskDefinition': 'ecs:RegisterTaskDefinition',
  'ecs:RunTask': 'ecs:RunTask',
  'ecs:StopTask': 'ecs:StopTask',
  'backup:StartRestoreJob': 'backup:StartRestoreJob',
  'efs:DeleteFileSystem': 'elasticfilesystem:DeleteFileSystem',
  's3:PutObject': 's3:PutObject',
  's3:GetObject': 's3:GetObject',
  's3:DeleteObject': 's3:DeleteObject',
  'rds:DescribeDBInstances': 'rds:DescribeDBInstances',
  'elbv2:DescribeTargetGroups': 'elasticloadbalancing:DescribeTargetGroups',
  'elbv2:DescribeListeners': 'elasticloadbalancing:DescribeListeners',
  'elbv2:DescribeRules': 'elasticloadbalancing:DescribeRules',
  'elbv2:CreateRule': 'elasticloadbalancing:CreateRule',
  'elbv2:DeleteRule': 'elasticloadbalancing:DeleteRule',
};

type Input = Record<string, unknown>;

/** A cluster named by identifier or ARN, as an ARN in `region`. */
function clusterArn(region: string, account: string, identifier: unknown): string {
  const id = String(identifier);
  return id.startsWith('arn:') ? id : `arn:aws:rds:${region}:${account}:cluster:${id}`;
}

function snapshotArn(region: string, account: string, identifier: unknown): string {
  return `arn:aws:rds:${region}:${account}:cluster-snapshot:${String(identifier)}`;
}

/** Tags given on create: RDS also authorises AddTagsToResource on the new resource. */
function tagsOnCreate(input: Input, resource: string, context: Record<string, string>): PolicyRequest[] {
  return Array.isArray(input.Tags) && input.Tags.length > 0
    ? [{ action: 'rds:AddTagsToResource', resource, context }]
    : [];
}

/**
 * The IAM requests one switch call makes: its action on each resource it names, with the condition
 * keys AWS sets (aws:RequestedRegion always; aws:ResourceTag/Name on a file system). A call whose
 * input is completed at run time is judged by what the plan knows of it.
 */
export function iamRequestsOf(call: PlannedCall, scope: RequestScope): PolicyRequest[] {
  const { account } = scope;
  const region = call.region;
  const input = (isRuntimeCall(call) ? call.known : (call as AwsCall).input) as Input;
  const action = IAM_ACTION[call.operation];
  const context = { 'aws:RequestedRegion': region };
  const fileSystem = (id: unknown) => ({
    action,
    resource: `arn:aws:elasticfilesystem:${region}:${account}:file-system/${String(id)}`,
    context: { ...context, 'aws:ResourceTag/Name': scope.fileSystemName },
  });
  const on = (resource: string): PolicyRequest => ({ action, resource, context });
  switch (call.operation) {
    case 'rds:DescribeGlobalClusters':
      return [on(`arn:aws:rds::${account}:global-cluster:${String(input.GlobalClusterIdentifier)}`)];
    case 'rds:SwitchoverGlobalCluster':
    case 'rds:FailoverGlobalCluster':
      return [
        on(`arn:aws:rds::${account}:global-cluster:${String(input.GlobalClusterIdentifier)}`),
        on(clusterArn(region, account, input.TargetDbClusterIdentifier)),
      ];
    case 'rds:DescribeDBClusters':
      return [on(clusterArn(region, account, input.DBClusterIdentifier))];
    case 'efs:DescribeReplicationConfigurations':
    case 'efs:DescribeFileSystems':
    case 'efs:UpdateFileSystemProtection':
      return [fileSystem(input.FileSystemId)];
    case 'efs:DeleteReplicationConfiguration':
      return [fileSystem(input.SourceFileSystemId)];
    case 'efs:CreateReplicationConfiguration': {
      const destinations = (input.Destinations ?? []) as { FileSystemId?: string }[];
      return [fileSystem(input.SourceFileSystemId), ...destinations.map((d) => fileSystem(d.FileSystemId))];
    }
    case 'ecs:UpdateService':
      return [on(`arn:aws:ecs:${region}:${account}:service/${String(input.cluster)}/${String(input.service)}`)];
    case 'ecs:DescribeServices':
      return ((input.services ?? []) as string[]).map((service) =>
        on(`arn:aws:ecs:${region}:${account}:service/${String(input.cluster)}/${service}`),
      );
    case 'ecr:DescribeImages': {
      // Authorised on the repository, in the registry's account; the preflight names them at run time.
      const registry = String(input.registryId ?? account);
      return [on(`arn:aws:ecr:${region}:${registry}:repository/${String(input.repositoryName ?? 'ghost-ha/ghost')}`)];
    }
    case 'cloudfront:GetDistributionConfig':
    case 'cloudfront:UpdateDistribution':
    case 'cloudfront:GetDistribution':
      return [on(`arn:aws:cloudfront::${account}:distribution/${String(input.Id)}`)];
    case 'cloudwatch:DisableAlarmActions':
    case 'cloudwatch:EnableAlarmActions':
    case 'cloudwatch:DescribeAlarms':
      return ((input.AlarmNames ?? []) as string[]).map((name) =>
        on(`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`),
      );
    case 'rds:DescribeDBClusterSnapshots':
      return [
        input.DBClusterSnapshotIdentifier !== undefined
          ? on(snapshotArn(region, account, input.DBClusterSnapshotIdentifier))
          : on(clusterArn(region, account, input.DBClusterIdentifier)),
      ];
    case 'rds:CopyDBClusterSnapshot': {
      // Authorised on both snapshots; the source is named at run time (Aurora's point-of-failure one).
      const snapshot = (id: unknown) => `arn:aws:rds:${region}:${account}:cluster-snapshot:${String(id)}`;
      const source =
        input.SourceDBClusterSnapshotIdentifier ?? 'rds:unplanned-global-failover-cluster-2026-12-06-22-50';
      const target =
        input.TargetDBClusterSnapshotIdentifier ??
        'ghost-ha-salvage-unplanned-global-failover-cluster-2026-12-06-22-50';
      return [on(snapshot(source)), on(snapshot(target))];
    }
    case 'backup:StartBackupJob': {
      const vault = `arn:aws:backup:${region}:${account}:backup-vault:${String(input.BackupVaultName)}`;
      return [
        on(vault),
        {
          action: 'iam:PassRole',
          resource: String(input.IamRoleArn),
          context: { 'iam:PassedToService': 'backup.amazonaws.com' },
        },
      ];
    }
    case 'backup:DescribeBackupJob':
      return [on('*')];
    case 'rds-data:ExecuteStatement':
      // The Data API also needs the secret it is given (GetSecretValue, on the caller's behalf).
      return [
        on(String(input.resourceArn)),
        {
          action: 'secretsmanager:GetSecretValue',
          resource: String(
            input.secretArn ?? `arn:aws:secretsmanager:${region}:${account}:secret:ghost-ha/database-app-AbCdEf`,
          ),
          context,
        },
      ];
    case 'secretsmanager:DescribeSecret':
      return [on(`arn:aws:secretsmanager:${region}:${account}:secret:${String(input.SecretId)}-AbCdEf`)];
    case 's3:ListObjectsV2':
      return [on(`arn:aws:s3:::${String(input.Bucket)}`)];
    // No resource-level permissions: authorised on "*".
    case 'elbv2:DescribeTargetHealth':
    case 'cloudwatch:GetMetricStatistics':
    case 'ecs:DescribeTaskDefinition':
      return [on('*')];
    // upgrade.sh apply and rollback.
    case 's3:PutObject':
    case 's3:GetObject':
    case 's3:DeleteObject':
      return [
        {
          action,
          resource: `arn:aws:s3:::${String(input.Bucket)}/${String(input.Key ?? 'upgrade-backup-points/before-6-66-0-1.json')}`,
          context: { ...context, 's3:ResourceAccount': account },
        },
      ];
    case 'rds:CreateDBClusterSnapshot':
      return [
        on(clusterArn(region, account, input.DBClusterIdentifier)),
        on(snapshotArn(region, account, input.DBClusterSnapshotIdentifier)),
        ...tagsOnCreate(input, snapshotArn(region, account, input.DBClusterSnapshotIdentifier), context),
      ];
    case 'rds:RestoreDBClusterFromSnapshot': {
      const restored = clusterArn(region, account, input.DBClusterIdentifier);
      return [
        on(restored),
        on(snapshotArn(region, account, input.SnapshotIdentifier)),
        ...(input.DBSubnetGroupName
          ? [on(`arn:aws:rds:${region}:${account}:subgrp:${String(input.DBSubnetGroupName)}`)]
          : []),
        ...(input.DBClusterParameterGroupName
          ? [on(`arn:aws:rds:${region}:${account}:cluster-pg:${String(input.DBClusterParameterGroupName)}`)]
          : []),
        ...tagsOnCreate(input, restored, context),
      ];
    }
    case 'rds:CreateDBInstance': {
      const instance = `arn:aws:rds:${region}:${account}:db:${String(input.DBInstanceIdentifier)}`;
      return [
        on(instance),
        on(clusterArn(region, account, input.DBClusterIdentifier)),
        ...tagsOnCreate(input, instance, context),
      ];
    }
    case 'rds:DescribeDBInstances':
      return [on(`arn:aws:rds:${region}:${account}:db:${String(input.DBInstanceIdentifier)}`)];
    case 'ecs:RegisterTaskDefinition':
      // Authorised on "*"; each role the task definition names is passed to ECS.
      return [
        on('*'),
        ...[input.taskRoleArn, input.executionRoleArn]
          .filter((role): role is string => typeof role === 'string')
          .map((role) => ({
            action: 'iam:PassRole',
            resource: role,
            context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
          })),
      ];
    case 'elbv2:DescribeTargetGroups':
    case 'elbv2:DescribeListeners':
    case 'elbv2:DescribeRules':
      return [on('*')];
    case 'elbv2:CreateRule': {
      // On the listener; tags on create are also AddTags on the new rule. Their keys are request tags.
      const tags = Object.fromEntries(
        ((input.Tags ?? []) as { Key: string; Value?: string }[]).map((t) => [
          `aws:RequestTag/${t.Key}`,
          t.Value ?? '',
        ]),
      );
      const listener = String(
        input.ListenerArn ??
          `arn:aws:elasticloadbalancing:${region}:${account}:listener/app/ghost-ha-app-LoadB-1/0a1b/2c3d`,
      );
      return [
        { action, resource: listener, context: { ...context, ...tags } },
        {
          action: 'elasticloadbalancing:AddTags',
          resource: `${listener.replace(':listener/', ':listener-rule/')}/9f8e7d6c`,
          context: { ...context, ...tags },
        },
      ];
    }
    case 'elbv2:DeleteRule':
      // The tool deletes only the rule it created, found by its tag: the rule carries it.
      return [
        {
          action,
          resource: String(
            input.RuleArn ??
              `arn:aws:elasticloadbalancing:${region}:${account}:listener-rule/app/ghost-ha-app-LoadB-1/0a1b/2c3d/9f8e`,
          ),
          context: { ...context, 'aws:ResourceTag/ghost-ha:maintenance': '5.130.6-to-6.66.0' },
        },
      ];
    case 'rds:RestoreDBClusterToPointInTime':
    case 'rds:DeleteDBInstance':
    case 'rds:DeleteDBCluster':
    case 'ecs:RunTask':
    case 'ecs:StopTask':
    case 'backup:StartRestoreJob':
    case 'efs:DeleteFileSystem':
      throw new Error(
        `${call.operation} is one of the rehearsal's calls on AWS, which the operator role does not cover`,
      );
  }
}
