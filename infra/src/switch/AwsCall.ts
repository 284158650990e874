import type {
  DescribeBackupJobCommandInput,
  DescribeBackupJobCommandOutput,
  StartBackupJobCommandInput,
  StartBackupJobCommandOutput,
  StartRestoreJobCommandInput,
  StartRestoreJobCommandOutput,
} from '@aws-sdk/client-backup';
import type {
  GetDistributionCommandInput,
  GetDistributionCommandOutput,
  GetDistributionConfigCommandInput,
  GetDistributionConfigCommandOutput,
  UpdateDistributionCommandInput,
  UpdateDistributionCommandOutput,
} from '@aws-sdk/client-cloudfront';
import type {
  DescribeAlarmsCommandInput,
  DescribeAlarmsCommandOutput,
  DisableAlarmActionsCommandInput,
  DisableAlarmActionsCommandOutput,
  EnableAlarmActionsCommandInput,
  EnableAlarmActionsCommandOutput,
  GetMetricStatisticsCommandInput,
  GetMetricStatisticsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import type { DescribeImagesCommandInput, DescribeImagesCommandOutput } from '@aws-sdk/client-ecr';
import type {
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  RunTaskCommandInput,
  RunTaskCommandOutput,
  StopTaskCommandInput,
  StopTaskCommandOutput,
  UpdateServiceCommandInput,
  UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import type {
  CreateReplicationConfigurationCommandInput,
  CreateReplicationConfigurationCommandOutput,
  DeleteFileSystemCommandInput,
  DeleteFileSystemCommandOutput,
  DeleteReplicationConfigurationCommandInput,
  DeleteReplicationConfigurationCommandOutput,
  DescribeFileSystemsCommandInput,
  DescribeFileSystemsCommandOutput,
  DescribeReplicationConfigurationsCommandInput,
  DescribeReplicationConfigurationsCommandOutput,
  UpdateFileSystemProtectionCommandInput,
  UpdateFileSystemProtectionCommandOutput,
} from '@aws-sdk/client-efs';
import type {
  CreateRuleCommandInput,
  CreateRuleCommandOutput,
  DeleteRuleCommandInput,
  DeleteRuleCommandOutput,
  DescribeListenersCommandInput,
  DescribeListenersCommandOutput,
  DescribeRulesCommandInput,
  DescribeRulesCommandOutput,
  DescribeTargetGroupsCommandInput,
  DescribeTargetGroupsCommandOutput,
  DescribeTargetHealthCommandInput,
  DescribeTargetHealthCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CopyDBClusterSnapshotCommandInput,
  CopyDBClusterSnapshotCommandOutput,
  CreateDBClusterSnapshotCommandInput,
  CreateDBClusterSnapshotCommandOutput,
  CreateDBInstanceCommandInput,
  CreateDBInstanceCommandOutput,
  DeleteDBClusterCommandInput,
  DeleteDBClusterCommandOutput,
  DeleteDBInstanceCommandInput,
  DeleteDBInstanceCommandOutput,
  DescribeDBClusterSnapshotsCommandInput,
  DescribeDBClusterSnapshotsCommandOutput,
  DescribeDBClustersCommandInput,
  DescribeDBClustersCommandOutput,
  DescribeDBInstancesCommandInput,
  DescribeDBInstancesCommandOutput,
  DescribeGlobalClustersCommandInput,
  DescribeGlobalClustersCommandOutput,
  FailoverGlobalClusterCommandInput,
  FailoverGlobalClusterCommandOutput,
  RestoreDBClusterFromSnapshotCommandInput,
  RestoreDBClusterFromSnapshotCommandOutput,
  RestoreDBClusterToPointInTimeCommandInput,
  RestoreDBClusterToPointInTimeCommandOutput,
  SwitchoverGlobalClusterCommandInput,
  SwitchoverGlobalClusterCommandOutput,
} from '@aws-sdk/client-rds';
import type { ExecuteStatementCommandInput, ExecuteStatementCommandOutput } from '@aws-sdk/client-rds-data';
import type {
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { DescribeSecretCommandInput, DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';

/**
 * Every operation the switch and the upgrade make, with the SDK's own input and output types: a wrong or missing
 * member is a compile error. Keys are `<service>:<Operation>`, the service being botocore's name.
 */
export interface Operations {
  'rds:DescribeGlobalClusters': [DescribeGlobalClustersCommandInput, DescribeGlobalClustersCommandOutput];
  'rds:DescribeDBClusters': [DescribeDBClustersCommandInput, DescribeDBClustersCommandOutput];
  'rds:SwitchoverGlobalCluster': [SwitchoverGlobalClusterCommandInput, SwitchoverGlobalClusterCommandOutput];
  'rds:FailoverGlobalCluster': [FailoverGlobalClusterCommandInput, FailoverGlobalClusterCommandOutput];
  'rds:DescribeDBClusterSnapshots': [DescribeDBClusterSnapshotsCommandInput, DescribeDBClusterSnapshotsCommandOutput];
  'rds:CopyDBClusterSnapshot': [CopyDBClusterSnapshotCommandInput, CopyDBClusterSnapshotCommandOutput];
  'efs:DescribeFileSystems': [DescribeFileSystemsCommandInput, DescribeFileSystemsCommandOutput];
  'efs:DescribeReplicationConfigurations': [
    DescribeReplicationConfigurationsCommandInput,
    DescribeReplicationConfigurationsCommandOutput,
  ];
  'efs:DeleteReplicationConfiguration': [
    DeleteReplicationConfigurationCommandInput,
    DeleteReplicationConfigurationCommandOutput,
  ];
  'efs:CreateReplicationConfiguration': [
    CreateReplicationConfigurationCommandInput,
    CreateReplicationConfigurationCommandOutput,
  ];
  'efs:UpdateFileSystemProtection': [UpdateFileSystemProtectionCommandInput, UpdateFileSystemProtectionCommandOutput];
  'ecs:UpdateService': [UpdateServiceCommandInput, UpdateServiceCommandOutput];
  'ecs:DescribeServices': [DescribeServicesCommandInput, DescribeServicesCommandOutput];
  'ecs:DescribeTaskDefinition': [DescribeTaskDefinitionCommandInput, DescribeTaskDefinitionCommandOutput];
  'ecr:DescribeImages': [DescribeImagesCommandInput, DescribeImagesCommandOutput];
  'elbv2:DescribeTargetHealth': [DescribeTargetHealthCommandInput, DescribeTargetHealthCommandOutput];
  'cloudfront:GetDistributionConfig': [GetDistributionConfigCommandInput, GetDistributionConfigCommandOutput];
  'cloudfront:UpdateDistribution': [UpdateDistributionCommandInput, UpdateDistributionCommandOutput];
  'cloudfront:GetDistribution': [GetDistributionCommandInput, GetDistributionCommandOutput];
  'cloudwatch:DisableAlarmActions': [DisableAlarmActionsCommandInput, DisableAlarmActionsCommandOutput];
  'cloudwatch:EnableAlarmActions': [EnableAlarmActionsCommandInput, EnableAlarmActionsCommandOutput];
  'cloudwatch:DescribeAlarms': [DescribeAlarmsCommandInput, DescribeAlarmsCommandOutput];
  'cloudwatch:GetMetricStatistics': [GetMetricStatisticsCommandInput, GetMetricStatisticsCommandOutput];
  's3:ListObjectsV2': [ListObjectsV2CommandInput, ListObjectsV2CommandOutput];
  // The upgrade (infra/src/upgrade/aws): the clone, the one-off task, the backup point, the rollback.
  'rds:RestoreDBClusterToPointInTime': [
    RestoreDBClusterToPointInTimeCommandInput,
    RestoreDBClusterToPointInTimeCommandOutput,
  ];
  'rds:RestoreDBClusterFromSnapshot': [
    RestoreDBClusterFromSnapshotCommandInput,
    RestoreDBClusterFromSnapshotCommandOutput,
  ];
  'rds:CreateDBInstance': [CreateDBInstanceCommandInput, CreateDBInstanceCommandOutput];
  'rds:DeleteDBInstance': [DeleteDBInstanceCommandInput, DeleteDBInstanceCommandOutput];
  'rds:DeleteDBCluster': [DeleteDBClusterCommandInput, DeleteDBClusterCommandOutput];
  'rds:CreateDBClusterSnapshot': [CreateDBClusterSnapshotCommandInput, CreateDBClusterSnapshotCommandOutput];
  'ecs:RegisterTaskDefinition': [RegisterTaskDefinitionCommandInput, RegisterTaskDefinitionCommandOutput];
  'ecs:RunTask': [RunTaskCommandInput, RunTaskCommandOutput];
  'ecs:StopTask': [StopTaskCommandInput, StopTaskCommandOutput];
  'backup:StartBackupJob': [StartBackupJobCommandInput, StartBackupJobCommandOutput];
  'backup:StartRestoreJob': [StartRestoreJobCommandInput, StartRestoreJobCommandOutput];
  'efs:DeleteFileSystem': [DeleteFileSystemCommandInput, DeleteFileSystemCommandOutput];
  's3:PutObject': [PutObjectCommandInput, PutObjectCommandOutput];
  'backup:DescribeBackupJob': [DescribeBackupJobCommandInput, DescribeBackupJobCommandOutput];
  // The upgrade's apply (infra/src/upgrade/aws/AwsUpgradeTarget.ts): its lock, its report, the writers' maintenance answer.
  's3:GetObject': [GetObjectCommandInput, GetObjectCommandOutput];
  's3:DeleteObject': [DeleteObjectCommandInput, DeleteObjectCommandOutput];
  'rds:DescribeDBInstances': [DescribeDBInstancesCommandInput, DescribeDBInstancesCommandOutput];
  'elbv2:DescribeTargetGroups': [DescribeTargetGroupsCommandInput, DescribeTargetGroupsCommandOutput];
  'elbv2:DescribeListeners': [DescribeListenersCommandInput, DescribeListenersCommandOutput];
  'elbv2:DescribeRules': [DescribeRulesCommandInput, DescribeRulesCommandOutput];
  'elbv2:CreateRule': [CreateRuleCommandInput, CreateRuleCommandOutput];
  'elbv2:DeleteRule': [DeleteRuleCommandInput, DeleteRuleCommandOutput];
  'rds-data:ExecuteStatement': [ExecuteStatementCommandInput, ExecuteStatementCommandOutput];
  'secretsmanager:DescribeSecret': [DescribeSecretCommandInput, DescribeSecretCommandOutput];
}

export type Operation = keyof Operations;
export type InputOf<K extends Operation> = Operations[K][0];
export type OutputOf<K extends Operation> = Operations[K][1];

/** One AWS API call of operation K, as the plan prints it and the apply mode makes it. */
export interface AwsCallOf<K extends Operation> {
  readonly operation: K;
  readonly region: string;
  readonly input: InputOf<K>;
  /** Read-only calls verify; the others change something. */
  readonly readOnly?: boolean;
}

export type AwsCall = { [K in Operation]: AwsCallOf<K> }[Operation];

/**
 * A call whose input is completed at run time from what an earlier call returned (the ETag and the
 * current distribution config); `known` is what the plan already knows, `atRunTime` says the rest.
 */
export interface RuntimeCall<K extends Operation = Operation> {
  readonly operation: K;
  readonly region: string;
  readonly known: Partial<InputOf<K>>;
  readonly atRunTime: string;
  readonly readOnly?: boolean;
}

/** What a step lists: complete calls, and calls completed at run time. */
export type PlannedCall = AwsCall | RuntimeCall;

export function awsCall<K extends Operation>(
  operation: K,
  region: string,
  input: InputOf<K>,
  readOnly?: boolean,
): AwsCallOf<K> {
  return readOnly ? { operation, region, input, readOnly } : { operation, region, input };
}

/** botocore's service and operation names, e.g. `['efs', 'DeleteReplicationConfiguration']`. */
export function serviceAndOperation(operation: Operation): [string, string] {
  const [service = '', name = ''] = operation.split(':');
  return [service, name];
}

export function isRuntimeCall(call: PlannedCall): call is RuntimeCall {
  return 'atRunTime' in call;
}

/** `rds:SwitchoverGlobalCluster @eu-central-1 {"GlobalClusterIdentifier":"..."}` */
export function formatCall(call: PlannedCall): string {
  if (isRuntimeCall(call)) {
    return `${call.operation} @${call.region} ${JSON.stringify(call.known)} + ${call.atRunTime}`;
  }
  return `${call.operation} @${call.region} ${JSON.stringify(call.input)}`;
}
