import { loadTemplate } from '../../parseTemplate.js';
import { awsCall, type InputOf, type Operation, type PlannedCall, type RuntimeCall } from '../../switch/AwsCall.js';
import { type AwsUpgradeSite, conventionalNames } from './AwsUpgradeSite.js';

/** The AWS calls of each step of the upgrade, by the step ids of planUpgrade, and of the rollback. */
export type UpgradeCalls = Record<
  'rehearse' | 'backup-point' | 'stop-ghost' | 'deploy-target' | 'rollback',
  PlannedCall[]
>;

function runtime<K extends Operation>(
  operation: K,
  region: string,
  known: Partial<InputOf<K>>,
  atRunTime: string,
): RuntimeCall<K> {
  return { operation, region, known, atRunTime };
}

/** `6.66.0` and a time → `6-66-0-20261206t2300`: RDS identifiers take letters, digits and single hyphens. */
export function identifierPart(version: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', 't');
  return `${version.replaceAll('.', '-')}-${stamp}`;
}

/**
 * Every AWS call of the upgrade of `site` to `to`, at `at` (names carry the time, so a second
 * rehearsal never meets the first one's clone). The rehearsal's clone is an Aurora clone:
 * RestoreDBClusterToPointInTime with RestoreType copy-on-write and the latest restorable time
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html); the
 * restored cluster has no instance and the default security group until told otherwise
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html).
 */
export function upgradeCalls(site: AwsUpgradeSite, from: string, to: string, at: Date): UpgradeCalls {
  const { region } = site;
  const names = conventionalNames(site.project);
  const part = identifierPart(to, at);
  const clone = `${site.project}-rehearsal-${part}`;
  const snapshot = `${site.project}-before-${part}`;
  const restored = `${site.project}-rollback-${part}`;
  const instanceClass = String(loadTemplate('data').Parameters?.DatabaseInstanceClass?.Default ?? 'db.r6g.large');
  const tags = [{ Key: 'ghost-ha:upgrade', Value: `${from}-to-${to}` }];
  // A restored or cloned Aurora cluster has no instance until one is created in it.
  const firstInstance = (cluster: string) =>
    awsCall('rds:CreateDBInstance', region, {
      DBInstanceIdentifier: `${cluster}-1`,
      DBClusterIdentifier: cluster,
      Engine: 'aurora-mysql',
      DBInstanceClass: instanceClass,
      Tags: tags,
    });
  const networkOfSource =
    'DBSubnetGroupName and VpcSecurityGroupIds of the source cluster (DescribeDBClusters), else the default security group';
  const rehearsalTask = runtime(
    'ecs:RegisterTaskDefinition',
    region,
    { family: `${site.project}-upgrade-rehearsal` },
    `the service's task definition with Ghost's image at ${to}'s digest, database host the clone's endpoint, and the content copied before Ghost starts: a container of Ghost's image (dependsOn SUCCESS) copies the content volume, mounted read-only, into the task's own storage (ephemeralStorage sized from preflight's figure), which Ghost mounts instead; production's files are never written. (An AWS Backup restore, even to a new file system, nests the files in an aws-backup-restore_<time> directory that only a mount shows.)`,
  );
  // Writers get a 503 saying why while no Ghost runs; readers' GETs fail over to the mirror on it.
  const maintenanceRule = runtime(
    'elbv2:CreateRule',
    region,
    {
      Actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: {
            StatusCode: '503',
            ContentType: 'text/plain',
            MessageBody: 'Ghost is being upgraded…',
          },
        },
      ],
    },
    "ListenerArn and Conditions of the rule forwarding CloudFront's requests to Ghost's target group, Priority the free one just before it",
  );
  const removeMaintenance = runtime(
    'elbv2:DeleteRule',
    region,
    {},
    'RuleArn: the maintenance rule, once Ghost is healthy',
  );
  const restoreDeployment = runtime(
    'ecs:UpdateService',
    region,
    { cluster: names.ecsCluster, service: names.ecsService },
    "deploymentConfiguration: the service's own again (the template's circuit breaker with rollback)",
  );
  return {
    rehearse: [
      runtime(
        'rds:RestoreDBClusterToPointInTime',
        region,
        {
          DBClusterIdentifier: clone,
          SourceDBClusterIdentifier: site.clusterIdentifier,
          RestoreType: 'copy-on-write',
          UseLatestRestorableTime: true,
          Tags: tags,
        },
        networkOfSource,
      ),
      firstInstance(clone),
      rehearsalTask,
      runtime(
        'ecs:RunTask',
        region,
        { cluster: names.ecsCluster, launchType: 'FARGATE', count: 1, startedBy: 'ghost-ha-upgrade' },
        "the rehearsal's task definition and the service's network configuration, with no load balancer",
      ),
      runtime(
        's3:PutObject',
        region,
        { Bucket: site.reportBucket, ContentType: 'application/json' },
        'the report under upgrade-reports/<from>-to-<to>/<time>.json',
      ),
      runtime(
        'ecs:StopTask',
        region,
        { cluster: names.ecsCluster, reason: 'upgrade rehearsal done' },
        'the task RunTask started',
      ),
      awsCall('rds:DeleteDBInstance', region, { DBInstanceIdentifier: `${clone}-1` }),
      awsCall('rds:DeleteDBCluster', region, { DBClusterIdentifier: clone, SkipFinalSnapshot: true }),
    ],
    'stop-ghost': [
      awsCall('s3:PutObject', region, {
        Bucket: site.reportBucket,
        Key: `upgrade-lock/${site.project}.json`,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
      maintenanceRule,
      awsCall('ecs:UpdateService', region, { cluster: names.ecsCluster, service: names.ecsService, desiredCount: 0 }),
    ],
    'backup-point': [
      awsCall('rds:CreateDBClusterSnapshot', region, {
        DBClusterIdentifier: site.clusterIdentifier,
        DBClusterSnapshotIdentifier: snapshot,
        Tags: tags,
      }),
      runtime(
        'backup:StartBackupJob',
        region,
        { BackupVaultName: names.backupVault, StartWindowMinutes: 60 },
        `ResourceArn of ${site.fileSystemId} and IamRoleArn of the data stack's backup role`,
      ),
      runtime(
        's3:PutObject',
        region,
        { Bucket: site.reportBucket, ContentType: 'application/json', IfNoneMatch: '*' },
        'the backup point (snapshot, recovery point, previous task definition) under upgrade-backup-points/<label>.json',
      ),
    ],
    'deploy-target': [
      runtime(
        'ecs:RegisterTaskDefinition',
        region,
        {},
        `the service's task definition with Ghost's image at ${to}'s digest (the one the rehearsal ran)`,
      ),
      runtime(
        'ecs:UpdateService',
        region,
        {
          cluster: names.ecsCluster,
          service: names.ecsService,
          desiredCount: 1,
          forceNewDeployment: true,
          deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
        },
        "taskDefinition: the one just registered; the circuit breaker's rollback off, so that ECS never starts the old release on a half-migrated database",
      ),
      removeMaintenance,
      restoreDeployment,
      awsCall('s3:DeleteObject', region, { Bucket: site.reportBucket, Key: `upgrade-lock/${site.project}.json` }),
    ],
    rollback: [
      awsCall('ecs:UpdateService', region, { cluster: names.ecsCluster, service: names.ecsService, desiredCount: 0 }),
      runtime(
        'rds:RestoreDBClusterFromSnapshot',
        region,
        { DBClusterIdentifier: restored, SnapshotIdentifier: snapshot, Engine: 'aurora-mysql', Tags: tags },
        `${networkOfSource}; the restored cluster stands alone: the global database's secondary is rebuilt from it afterwards`,
      ),
      firstInstance(restored),
      runtime(
        'ecs:RegisterTaskDefinition',
        region,
        {},
        `${from}'s task definition with database__connection__host (Ghost's and the sidecar's) the restored cluster's endpoint`,
      ),
      runtime(
        'ecs:UpdateService',
        region,
        { cluster: names.ecsCluster, service: names.ecsService, desiredCount: 1, forceNewDeployment: true },
        'taskDefinition: the one just registered',
      ),
      removeMaintenance,
      restoreDeployment,
    ],
  };
}
