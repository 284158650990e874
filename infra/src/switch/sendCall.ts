import { DescribeBackupJobCommand, StartBackupJobCommand, StartRestoreJobCommand } from '@aws-sdk/client-backup';
import {
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateReplicationConfigurationCommand,
  DeleteFileSystemCommand,
  DeleteReplicationConfigurationCommand,
  DescribeFileSystemsCommand,
  DescribeReplicationConfigurationsCommand,
  UpdateFileSystemProtectionCommand,
} from '@aws-sdk/client-efs';
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CopyDBClusterSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsCall, AwsCallOf, InputOf, Operation, OutputOf } from './AwsCall.js';
import type { AwsClients } from './AwsClients.js';

type Sender<K extends Operation> = (clients: AwsClients, region: string, input: InputOf<K>) => Promise<OutputOf<K>>;

// The only operations the switch and the upgrade make: the plan prints these calls, and apply sends exactly them.
const COMMANDS: { [K in Operation]: Sender<K> } = {
  'rds:DescribeGlobalClusters': (c, r, i) => c.rds(r).send(new DescribeGlobalClustersCommand(i)),
  'rds:DescribeDBClusters': (c, r, i) => c.rds(r).send(new DescribeDBClustersCommand(i)),
  'rds:SwitchoverGlobalCluster': (c, r, i) => c.rds(r).send(new SwitchoverGlobalClusterCommand(i)),
  'rds:FailoverGlobalCluster': (c, r, i) => c.rds(r).send(new FailoverGlobalClusterCommand(i)),
  'rds:DescribeDBClusterSnapshots': (c, r, i) => c.rds(r).send(new DescribeDBClusterSnapshotsCommand(i)),
  'rds:CopyDBClusterSnapshot': (c, r, i) => c.rds(r).send(new CopyDBClusterSnapshotCommand(i)),
  'efs:DescribeFileSystems': (c, r, i) => c.efs(r).send(new DescribeFileSystemsCommand(i)),
  'efs:DescribeReplicationConfigurations': (c, r, i) => c.efs(r).send(new DescribeReplicationConfigurationsCommand(i)),
  'efs:DeleteReplicationConfiguration': (c, r, i) => c.efs(r).send(new DeleteReplicationConfigurationCommand(i)),
  'efs:CreateReplicationConfiguration': (c, r, i) => c.efs(r).send(new CreateReplicationConfigurationCommand(i)),
  'efs:UpdateFileSystemProtection': (c, r, i) => c.efs(r).send(new UpdateFileSystemProtectionCommand(i)),
  'ecs:UpdateService': (c, r, i) => c.ecs(r).send(new UpdateServiceCommand(i)),
  'ecs:DescribeServices': (c, r, i) => c.ecs(r).send(new DescribeServicesCommand(i)),
  'ecs:DescribeTaskDefinition': (c, r, i) => c.ecs(r).send(new DescribeTaskDefinitionCommand(i)),
  'ecr:DescribeImages': (c, r, i) => c.ecr(r).send(new DescribeImagesCommand(i)),
  'elbv2:DescribeTargetHealth': (c, r, i) => c.elbv2(r).send(new DescribeTargetHealthCommand(i)),
  'cloudfront:GetDistributionConfig': (c, _r, i) => c.cloudfront().send(new GetDistributionConfigCommand(i)),
  'cloudfront:UpdateDistribution': (c, _r, i) => c.cloudfront().send(new UpdateDistributionCommand(i)),
  'cloudfront:GetDistribution': (c, _r, i) => c.cloudfront().send(new GetDistributionCommand(i)),
  'cloudwatch:DisableAlarmActions': (c, r, i) => c.cloudwatch(r).send(new DisableAlarmActionsCommand(i)),
  'cloudwatch:EnableAlarmActions': (c, r, i) => c.cloudwatch(r).send(new EnableAlarmActionsCommand(i)),
  'cloudwatch:DescribeAlarms': (c, r, i) => c.cloudwatch(r).send(new DescribeAlarmsCommand(i)),
  'cloudwatch:GetMetricStatistics': (c, r, i) => c.cloudwatch(r).send(new GetMetricStatisticsCommand(i)),
  's3:ListObjectsV2': (c, r, i) => c.s3(r).send(new ListObjectsV2Command(i)),
  'rds:RestoreDBClusterToPointInTime': (c, r, i) => c.rds(r).send(new RestoreDBClusterToPointInTimeCommand(i)),
  'rds:RestoreDBClusterFromSnapshot': (c, r, i) => c.rds(r).send(new RestoreDBClusterFromSnapshotCommand(i)),
  'rds:CreateDBInstance': (c, r, i) => c.rds(r).send(new CreateDBInstanceCommand(i)),
  'rds:DeleteDBInstance': (c, r, i) => c.rds(r).send(new DeleteDBInstanceCommand(i)),
  'rds:DeleteDBCluster': (c, r, i) => c.rds(r).send(new DeleteDBClusterCommand(i)),
  'rds:CreateDBClusterSnapshot': (c, r, i) => c.rds(r).send(new CreateDBClusterSnapshotCommand(i)),
  'ecs:RegisterTaskDefinition': (c, r, i) => c.ecs(r).send(new RegisterTaskDefinitionCommand(i)),
  'ecs:RunTask': (c, r, i) => c.ecs(r).send(new RunTaskCommand(i)),
  'ecs:StopTask': (c, r, i) => c.ecs(r).send(new StopTaskCommand(i)),
  'backup:StartBackupJob': (c, r, i) => c.backup(r).send(new StartBackupJobCommand(i)),
  'backup:StartRestoreJob': (c, r, i) => c.backup(r).send(new StartRestoreJobCommand(i)),
  'efs:DeleteFileSystem': (c, r, i) => c.efs(r).send(new DeleteFileSystemCommand(i)),
  's3:PutObject': (c, r, i) => c.s3(r).send(new PutObjectCommand(i)),
  'backup:DescribeBackupJob': (c, r, i) => c.backup(r).send(new DescribeBackupJobCommand(i)),
  's3:GetObject': (c, r, i) => c.s3(r).send(new GetObjectCommand(i)),
  's3:DeleteObject': (c, r, i) => c.s3(r).send(new DeleteObjectCommand(i)),
  'rds:DescribeDBInstances': (c, r, i) => c.rds(r).send(new DescribeDBInstancesCommand(i)),
  'elbv2:DescribeTargetGroups': (c, r, i) => c.elbv2(r).send(new DescribeTargetGroupsCommand(i)),
  'elbv2:DescribeListeners': (c, r, i) => c.elbv2(r).send(new DescribeListenersCommand(i)),
  'elbv2:DescribeRules': (c, r, i) => c.elbv2(r).send(new DescribeRulesCommand(i)),
  'elbv2:CreateRule': (c, r, i) => c.elbv2(r).send(new CreateRuleCommand(i)),
  'elbv2:DeleteRule': (c, r, i) => c.elbv2(r).send(new DeleteRuleCommand(i)),
  'rds-data:ExecuteStatement': (c, r, i) => c.rdsData(r).send(new ExecuteStatementCommand(i)),
  'secretsmanager:DescribeSecret': (c, r, i) => c.secretsManager(r).send(new DescribeSecretCommand(i)),
};

/** Sends one planned call through the matching SDK client; `clients.onCall` sees it first. */
export function sendCall<K extends Operation>(clients: AwsClients, call: AwsCallOf<K>): Promise<OutputOf<K>> {
  clients.onCall?.(call as AwsCall);
  const send: Sender<K> = COMMANDS[call.operation];
  return send(clients, call.region, call.input);
}
