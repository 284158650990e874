import type { ContainerDefinition, DeploymentConfiguration, RegisterTaskDefinitionRequest } from '@aws-sdk/client-ecs';
import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GhostAdminClient } from '@ghost-ha/core';
import { UpgradeLockedError } from '../../errors.js';
import { awsCall } from '../../switch/AwsCall.js';
import type { AwsClients } from '../../switch/AwsClients.js';
import { type Pacing, type PollOptions, poll } from '../../switch/poll.js';
import { sendCall } from '../../switch/sendCall.js';
import { firstLineOf } from '../firstLineOf.js';
import type { BackupPoint, UpgradeTarget } from '../UpgradeSite.js';
import { type AwsUpgradeSite, conventionalNames } from './AwsUpgradeSite.js';
import { isTransientAwsFailure } from './isTransientAwsFailure.js';

/** A backup point on AWS: a cluster snapshot, a recovery point of the content, and the task definition that ran. */
export interface AwsBackupPoint extends BackupPoint {
  readonly snapshotIdentifier: string;
  readonly recoveryPointArn: string;
  /** The task definition that ran on it: the rollback starts it again. */
  readonly taskDefinitionArn: string;
  /**
   * The service's deployment configuration before the upgrade: a rollback puts it back, even when
   * an upgrade that failed left the circuit breaker's rollback off (as it must while the database
   * may be half migrated). Absent in records written before it was kept.
   */
  readonly deploymentConfiguration?: DeploymentConfiguration;
  /** Where the point is recorded in the report bucket, for `upgrade.sh rollback --backup-point`. */
  readonly key: string;
}

export interface AwsUpgradeTargetOptions {
  readonly site: AwsUpgradeSite;
  readonly clients: AwsClients;
  readonly pacing: Pacing;
  /** The site's address and an Admin API key: the smoke test and the comparison read through it. */
  readonly url: string;
  readonly adminApiKey: string;
  readonly from: string;
  readonly to: string;
  /** The target's image, pinned by digest (the go report's). */
  readonly targetImage: string;
  /** Who runs the command, written into the lock. */
  readonly holder: string;
  readonly progress?: (line: string) => void;
}

const MINUTE = 60_000;
/** A read AWS did not answer this time is no verdict on what is waited for: the wait goes on to its deadline. */
const WAITS: PollOptions = { transient: isTransientAwsFailure };
/** Ghost's container in the app stack's task definition (app.yaml). */
const GHOST_CONTAINER = 'ghost';
const DATABASE_HOST = 'database__connection__host';
/** The writers' answer while no Ghost runs; an ALB fixed response body holds at most 1024 characters. */
const MAINTENANCE_TAG = 'ghost-ha:maintenance';

/** `ghost-ha-before-6-65-0-…` as a key of the report bucket. */
export function backupPointKey(label: string): string {
  return `upgrade-backup-points/${label}.json`;
}

/** `PreconditionFailed` (412) or `ConditionalRequestConflict` (409): someone else's object is there. */
function isConditionFailure(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  return status === 412 || status === 409 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

/**
 * Production on AWS for applyUpgrade and rollBack, through the same clients and calls as the switch.
 * - lock: an object in the report bucket written with If-None-Match (S3 conditional writes,
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html): one upgrade
 *   or rollback at a time, whoever runs it from wherever.
 * - stop: a listener rule ahead of CloudFront's forward rule answers 503 with a maintenance message
 *   (readers' GETs fail over to the mirror on that 503, writers read why), then desired count 0.
 * - backup point: a manual cluster snapshot and an AWS Backup job of the content, both waited for.
 * - start: the target's task definition (the service's with Ghost's image replaced), with the
 *   circuit breaker's rollback off (ECS would start the old release on a half-migrated database);
 *   healthy in the target group, the maintenance rule removed, then Ghost's Admin API answering
 *   with the release.
 * - restore: the snapshot restored to a new cluster (Aurora cannot restore in place,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-restore-snapshot.html);
 *   the previous task definition starts on it. The content is not rolled back: AWS Backup restores
 *   into a new directory of an existing file system, not over it
 *   (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html); the point's
 *   recovery point is named for a restore by hand.
 */
export class AwsUpgradeTarget implements UpgradeTarget {
  readonly url: string;
  readonly adminApiKey: string;
  readonly #options: AwsUpgradeTargetOptions;
  readonly #names: ReturnType<typeof conventionalNames>;
  /** The task definition that ran when the upgrade began. */
  #previousTaskDefinition: string | undefined;
  #previousDeployment: DeploymentConfiguration | undefined;
  /** The database the next start of the previous release uses (a restored cluster's endpoint). */
  #restoredHost: string | undefined;
  #maintenanceRule: string | undefined;

  constructor(options: AwsUpgradeTargetOptions) {
    this.#options = options;
    this.url = options.url;
    this.adminApiKey = options.adminApiKey;
    this.#names = conventionalNames(options.site.project);
  }

  get #region(): string {
    return this.#options.site.region;
  }

  #progress(line: string): void {
    this.#options.progress?.(line);
  }

  get lockKey(): string {
    return `upgrade-lock/${this.#options.site.project}.json`;
  }

  async lock(): Promise<() => Promise<void>> {
    const { clients, site } = this.#options;
    const body = JSON.stringify({
      holder: this.#options.holder,
      from: this.#options.from,
      to: this.#options.to,
      since: new Date(this.#options.pacing.now()).toISOString(),
    });
    try {
      await sendCall(
        clients,
        awsCall('s3:PutObject', this.#region, {
          Bucket: site.reportBucket,
          Key: this.lockKey,
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const held = await this.#readObject(this.lockKey).catch(() => 'unreadable');
      throw new UpgradeLockedError(
        `Another upgrade or rollback of ${site.project} holds s3://${site.reportBucket}/${this.lockKey} (${held}). ` +
          `If none runs (the command was killed), Ghost may be stopped or half upgraded and writers may still get the maintenance answer (a listener rule tagged ${MAINTENANCE_TAG}). ` +
          `Check the site, then remove the lock: aws s3api delete-object --bucket ${site.reportBucket} --key ${this.lockKey}; ` +
          'then `upgrade.sh rollback --backup-point before-…` (the label the killed command printed) or `upgrade.sh apply` again, which takes the maintenance rule over and removes it at the end',
        { cause: error },
      );
    }
    // Never throws: the outcome of the upgrade is what the operator must read, not the lock's.
    return async () => {
      try {
        await sendCall(
          clients,
          awsCall('s3:DeleteObject', this.#region, { Bucket: site.reportBucket, Key: this.lockKey }),
        );
      } catch (error) {
        this.#progress(
          `Warning: the upgrade lock s3://${site.reportBucket}/${this.lockKey} could not be removed (${firstLineOf(error)}); ` +
            `it refuses the next upgrade or rollback until removed. Once S3 answers: aws s3api delete-object --bucket ${site.reportBucket} --key ${this.lockKey}`,
        );
      }
    };
  }

  /** The AWS CLI commands that start `version` again as it ran before (after both the tool's stop and its start failed). */
  howToStartByHand(): string {
    const n = this.#names;
    return [
      `aws ecs update-service --region ${this.#region} --cluster ${n.ecsCluster} --service ${n.ecsService}` +
        `${this.#previousTaskDefinition ? ` --task-definition ${this.#previousTaskDefinition}` : ''} --desired-count 1`,
      ...(this.#maintenanceRule
        ? [`aws elbv2 delete-rule --region ${this.#region} --rule-arn ${this.#maintenanceRule}`]
        : []),
    ].join('; then ');
  }

  async stopGhost(): Promise<void> {
    const service = await this.#service();
    this.#previousTaskDefinition ??= service.taskDefinition;
    this.#previousDeployment ??= service.deploymentConfiguration;
    await this.#answerWritersWithMaintenance(service.loadBalancers?.[0]?.targetGroupArn);
    this.#progress('Desired count 0: the task stops (the sidecar releases the lease)');
    await sendCall(
      this.#options.clients,
      awsCall('ecs:UpdateService', this.#region, {
        cluster: this.#names.ecsCluster,
        service: this.#names.ecsService,
        desiredCount: 0,
      }),
    );
    await poll(
      'Ghost to stop',
      10 * MINUTE,
      this.#options.pacing,
      async () => {
        const s = await this.#service();
        return {
          done: (s.runningCount ?? 0) === 0 && (s.pendingCount ?? 0) === 0,
          state: `running ${s.runningCount ?? 0}, pending ${s.pendingCount ?? 0}`,
        };
      },
      (state) => this.#progress(`  ${state}`),
      WAITS,
    );
  }

  async backup(label: string, version: string): Promise<AwsBackupPoint> {
    const { clients, pacing, site } = this.#options;
    const started = pacing.now();
    const service = await this.#service();
    const taskDefinitionArn = this.#previousTaskDefinition ?? service.taskDefinition ?? '';
    const deploymentConfiguration = this.#previousDeployment ?? service.deploymentConfiguration;
    const snapshotIdentifier = `${site.project}-${label}`;
    const tags = [{ Key: 'ghost-ha:upgrade', Value: `${this.#options.from}-to-${this.#options.to}` }];
    this.#progress(`Cluster snapshot ${snapshotIdentifier}`);
    await sendCall(
      clients,
      awsCall('rds:CreateDBClusterSnapshot', this.#region, {
        DBClusterIdentifier: site.clusterIdentifier,
        DBClusterSnapshotIdentifier: snapshotIdentifier,
        Tags: tags,
      }),
    );
    const [, partition = 'aws', , , account = ''] = (await this.#cluster(site.clusterIdentifier)).DBClusterArn?.split(
      ':',
    ) ?? [''];
    this.#progress('Content backup (AWS Backup, on demand)');
    const { BackupJobId } = await sendCall(
      clients,
      awsCall('backup:StartBackupJob', this.#region, {
        BackupVaultName: this.#names.backupVault,
        ResourceArn: `arn:${partition}:elasticfilesystem:${this.#region}:${account}:file-system/${site.fileSystemId}`,
        IamRoleArn: `arn:${partition}:iam::${account}:role/${site.project}-backup-${this.#region}`,
        // AWS Backup's minimum; the default would let the job wait eight hours to start.
        StartWindowMinutes: 60,
        RecoveryPointTags: { purpose: 'before-upgrade', 'ghost-ha:upgrade': label },
      }),
    );
    let recoveryPointArn = '';
    await poll(
      `the snapshot ${snapshotIdentifier} and the content backup`,
      60 * MINUTE,
      pacing,
      async () => {
        const { DBClusterSnapshots = [] } = await sendCall(
          clients,
          awsCall(
            'rds:DescribeDBClusterSnapshots',
            this.#region,
            { DBClusterSnapshotIdentifier: snapshotIdentifier },
            true,
          ),
        );
        const job = await sendCall(
          clients,
          awsCall('backup:DescribeBackupJob', this.#region, { BackupJobId: BackupJobId ?? '' }, true),
        );
        if (job.State === 'FAILED' || job.State === 'ABORTED' || job.State === 'EXPIRED') {
          throw new Error(`The content backup job ${BackupJobId} ended ${job.State}: ${job.StatusMessage ?? ''}`);
        }
        const snapshot = DBClusterSnapshots[0]?.Status ?? 'missing';
        if (snapshot === 'failed') throw new Error(`The cluster snapshot ${snapshotIdentifier} failed`);
        recoveryPointArn = job.RecoveryPointArn ?? '';
        return {
          done: snapshot === 'available' && job.State === 'COMPLETED',
          state: `snapshot ${snapshot}, content backup ${job.State ?? '?'}`,
        };
      },
      (state) => this.#progress(`  ${state}`),
      WAITS,
    );
    const point: AwsBackupPoint = {
      label,
      version,
      ms: pacing.now() - started,
      snapshotIdentifier,
      recoveryPointArn,
      taskDefinitionArn,
      ...(deploymentConfiguration ? { deploymentConfiguration } : {}),
      key: backupPointKey(label),
    };
    await sendCall(
      clients,
      awsCall('s3:PutObject', this.#region, {
        Bucket: site.reportBucket,
        Key: point.key,
        Body: `${JSON.stringify(point, null, 2)}\n`,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return point;
  }

  async startGhost(version: string, timeoutMs: number): Promise<void> {
    const { clients, pacing } = this.#options;
    const service = await this.#service();
    this.#previousTaskDefinition ??= service.taskDefinition;
    this.#previousDeployment ??= service.deploymentConfiguration;
    const previous = this.#previousTaskDefinition ?? '';
    let taskDefinition: string;
    if (version === this.#options.to) {
      taskDefinition = await this.#register(previous, (c) =>
        c.name === GHOST_CONTAINER ? { ...c, image: this.#options.targetImage } : c,
      );
    } else if (this.#restoredHost !== undefined) {
      const host = this.#restoredHost;
      taskDefinition = await this.#register(previous, (c) => ({
        ...c,
        environment: (c.environment ?? []).map((e) => (e.name === DATABASE_HOST ? { ...e, value: host } : e)),
      }));
    } else {
      taskDefinition = previous;
    }
    const stillRunning =
      taskDefinition === service.taskDefinition &&
      service.desiredCount === 1 &&
      service.runningCount === 1 &&
      (service.deployments ?? []).length === 1;
    if (stillRunning) {
      // A stop that never took (its call failed): the running task is the one to keep, not replace.
      this.#progress(`Ghost ${version} still runs (${taskDefinition}): nothing to start`);
      await this.#removeMaintenance();
      await this.#waitForRelease(version, timeoutMs);
      return;
    }
    this.#progress(`Ghost ${version}: ${taskDefinition}`);
    await sendCall(
      clients,
      awsCall('ecs:UpdateService', this.#region, {
        cluster: this.#names.ecsCluster,
        service: this.#names.ecsService,
        taskDefinition,
        desiredCount: 1,
        forceNewDeployment: true,
        // A failed migration must not bring the old release back on a half-migrated database: the
        // tool's rollback restores the backup point first.
        deploymentConfiguration: {
          ...this.#previousDeployment,
          deploymentCircuitBreaker: { enable: true, rollback: false },
        },
      }),
    );
    const deadline = pacing.now() + timeoutMs * pacing.timeoutScale;
    await poll(
      `Ghost ${version} to become healthy`,
      timeoutMs,
      pacing,
      async () => {
        const s = await this.#service();
        const primary = (s.deployments ?? []).find((d) => d.status === 'PRIMARY');
        if (primary?.rolloutState === 'FAILED') {
          throw new Error(`The deployment of Ghost ${version} failed: ${primary.rolloutStateReason ?? ''}`);
        }
        return {
          done: (s.runningCount ?? 0) === 1 && (s.deployments ?? []).length === 1,
          state: `running ${s.runningCount ?? 0}, rollout ${primary?.rolloutState ?? 'n/a'}`,
        };
      },
      (state) => this.#progress(`  ${state}`),
      WAITS,
    );
    await this.#removeMaintenance();
    await this.#waitForRelease(version, Math.max(0, deadline - pacing.now()) / pacing.timeoutScale);
    await this.#restoreDeploymentConfiguration();
  }

  async restore(point: BackupPoint): Promise<void> {
    const { clients, pacing, site } = this.#options;
    const aws = point as Partial<AwsBackupPoint>;
    const snapshot = aws.snapshotIdentifier ?? point.label;
    this.#previousTaskDefinition = aws.taskDefinitionArn ?? this.#previousTaskDefinition;
    this.#previousDeployment = aws.deploymentConfiguration ?? this.#previousDeployment;
    const source = await this.#cluster(site.clusterIdentifier);
    const writer = source.DBClusterMembers?.find((m) => m.IsClusterWriter) ?? source.DBClusterMembers?.[0];
    const { DBInstances = [] } = writer?.DBInstanceIdentifier
      ? await sendCall(
          clients,
          awsCall('rds:DescribeDBInstances', this.#region, { DBInstanceIdentifier: writer.DBInstanceIdentifier }, true),
        )
      : { DBInstances: [] };
    const restored = `${site.project}-rollback-${snapshot.replace(/^.*?-before-/, '')}`.slice(0, 63).replace(/-+$/, '');
    const tags = [{ Key: 'ghost-ha:rollback', Value: snapshot }];
    this.#progress(`Restoring snapshot ${snapshot} to cluster ${restored}`);
    if (!(await this.#clusterIfAny(restored))) {
      await sendCall(
        clients,
        awsCall('rds:RestoreDBClusterFromSnapshot', this.#region, {
          DBClusterIdentifier: restored,
          SnapshotIdentifier: snapshot,
          Engine: source.Engine ?? 'aurora-mysql',
          ...(source.EngineVersion ? { EngineVersion: source.EngineVersion } : {}),
          ...(source.DBSubnetGroup ? { DBSubnetGroupName: source.DBSubnetGroup } : {}),
          VpcSecurityGroupIds: (source.VpcSecurityGroups ?? []).flatMap((g) =>
            g.VpcSecurityGroupId ? [g.VpcSecurityGroupId] : [],
          ),
          ...(source.DBClusterParameterGroup ? { DBClusterParameterGroupName: source.DBClusterParameterGroup } : {}),
          Tags: tags,
        }),
      );
      // A restored cluster has no instance until one is created in it.
      await sendCall(
        clients,
        awsCall('rds:CreateDBInstance', this.#region, {
          DBInstanceIdentifier: `${restored}-1`,
          DBClusterIdentifier: restored,
          Engine: source.Engine ?? 'aurora-mysql',
          DBInstanceClass: DBInstances[0]?.DBInstanceClass ?? 'db.r6g.large',
          Tags: tags,
        }),
      );
    }
    let endpoint = '';
    await poll(
      `the restored cluster ${restored}`,
      60 * MINUTE,
      pacing,
      async () => {
        const cluster = await this.#cluster(restored);
        endpoint = cluster.Endpoint ?? '';
        return { done: cluster.Status === 'available' && endpoint !== '', state: `cluster ${cluster.Status}` };
      },
      (state) => this.#progress(`  ${state}`),
      WAITS,
    );
    this.#restoredHost = endpoint;
    this.#progress(
      `Content: not rolled back (AWS Backup restores into a new directory, not over the volume); its recovery point is ${aws.recoveryPointArn ?? 'unknown'}`,
    );
  }

  /** Reads a recorded backup point of this site (`upgrade.sh rollback --backup-point LABEL`). */
  async readBackupPoint(label: string): Promise<AwsBackupPoint> {
    return JSON.parse(await this.#readObject(backupPointKey(label))) as AwsBackupPoint;
  }

  /** Where the previous release's database now is, after a restore (undefined before one). */
  get restoredDatabaseHost(): string | undefined {
    return this.#restoredHost;
  }

  async #readObject(key: string): Promise<string> {
    const { Body } = await sendCall(
      this.#options.clients,
      awsCall('s3:GetObject', this.#region, { Bucket: this.#options.site.reportBucket, Key: key }, true),
    );
    return (await Body?.transformToString()) ?? '';
  }

  async #service() {
    const { services = [], failures = [] } = await sendCall(
      this.#options.clients,
      awsCall(
        'ecs:DescribeServices',
        this.#region,
        { cluster: this.#names.ecsCluster, services: [this.#names.ecsService] },
        true,
      ),
    );
    const service = services[0];
    if (!service || service.status === 'INACTIVE') {
      throw new Error(
        `ECS service ${this.#names.ecsCluster}/${this.#names.ecsService}: ${failures[0]?.reason ?? 'not found'}`,
      );
    }
    return service;
  }

  async #clusterIfAny(identifier: string) {
    try {
      return await this.#cluster(identifier);
    } catch (error) {
      if ((error as { name?: string }).name === 'DBClusterNotFoundFault') return undefined;
      throw error;
    }
  }

  async #cluster(identifier: string) {
    const { DBClusters = [] } = await sendCall(
      this.#options.clients,
      awsCall('rds:DescribeDBClusters', this.#region, { DBClusterIdentifier: identifier }, true),
    );
    const cluster = DBClusters[0];
    if (!cluster) throw new Error(`Aurora cluster ${identifier} not found in ${this.#region}`);
    return cluster;
  }

  /** A new revision of `from`'s family with each container changed by `change`. */
  async #register(from: string, change: (c: ContainerDefinition) => ContainerDefinition): Promise<string> {
    const { taskDefinition } = await sendCall(
      this.#options.clients,
      awsCall('ecs:DescribeTaskDefinition', this.#region, { taskDefinition: from }, true),
    );
    if (!taskDefinition?.family) throw new Error(`Task definition ${from} not found`);
    const t = taskDefinition;
    const input: RegisterTaskDefinitionRequest = {
      family: t.family,
      containerDefinitions: (t.containerDefinitions ?? []).map(change),
      ...(t.taskRoleArn ? { taskRoleArn: t.taskRoleArn } : {}),
      ...(t.executionRoleArn ? { executionRoleArn: t.executionRoleArn } : {}),
      ...(t.networkMode ? { networkMode: t.networkMode } : {}),
      ...(t.volumes ? { volumes: t.volumes } : {}),
      ...(t.placementConstraints?.length ? { placementConstraints: t.placementConstraints } : {}),
      ...(t.requiresCompatibilities ? { requiresCompatibilities: t.requiresCompatibilities } : {}),
      ...(t.cpu ? { cpu: t.cpu } : {}),
      ...(t.memory ? { memory: t.memory } : {}),
      ...(t.runtimePlatform ? { runtimePlatform: t.runtimePlatform } : {}),
      ...(t.ephemeralStorage ? { ephemeralStorage: t.ephemeralStorage } : {}),
      ...(t.pidMode ? { pidMode: t.pidMode } : {}),
      ...(t.ipcMode ? { ipcMode: t.ipcMode } : {}),
    };
    const { taskDefinition: registered } = await sendCall(
      this.#options.clients,
      awsCall('ecs:RegisterTaskDefinition', this.#region, input),
    );
    if (!registered?.taskDefinitionArn) throw new Error(`RegisterTaskDefinition of ${t.family} returned no ARN`);
    return registered.taskDefinitionArn;
  }

  /**
   * A rule with the conditions of the rule that forwards CloudFront's requests to Ghost's target
   * group, evaluated just before it, answering 503 with why. CloudFront fails a GET or HEAD over to
   * the mirror on that 503 (edge.yaml's failover codes); other methods are not failed over and
   * reach the writer with the message.
   */
  async #answerWritersWithMaintenance(targetGroupArn: string | undefined): Promise<void> {
    if (this.#maintenanceRule || !targetGroupArn) return;
    const { clients } = this.#options;
    const { TargetGroups = [] } = await sendCall(
      clients,
      awsCall('elbv2:DescribeTargetGroups', this.#region, { TargetGroupArns: [targetGroupArn] }, true),
    );
    const loadBalancer = TargetGroups[0]?.LoadBalancerArns?.[0];
    if (!loadBalancer) throw new Error(`Target group ${targetGroupArn} is not behind a load balancer`);
    const { Listeners = [] } = await sendCall(
      clients,
      awsCall('elbv2:DescribeListeners', this.#region, { LoadBalancerArn: loadBalancer }, true),
    );
    for (const listener of Listeners) {
      const { Rules = [] } = await sendCall(
        clients,
        awsCall('elbv2:DescribeRules', this.#region, { ListenerArn: listener.ListenerArn ?? '' }, true),
      );
      const existing = Rules.find((r) =>
        r.Actions?.some((a) => a.FixedResponseConfig?.MessageBody?.includes(MAINTENANCE_TAG)),
      );
      if (existing?.RuleArn) {
        this.#maintenanceRule = existing.RuleArn;
        return;
      }
      const forward = Rules.find(
        (r) =>
          !r.IsDefault &&
          r.Actions?.some(
            (a) =>
              a.TargetGroupArn === targetGroupArn ||
              a.ForwardConfig?.TargetGroups?.some((g) => g.TargetGroupArn === targetGroupArn),
          ),
      );
      if (!forward) continue;
      const taken = new Set(Rules.map((r) => Number(r.Priority)));
      const below = Number(forward.Priority);
      let priority = below - 1;
      while (priority > 0 && taken.has(priority)) priority--;
      if (priority < 1) throw new Error(`No free listener rule priority below ${below} for the maintenance answer`);
      const conditions: RuleCondition[] = (forward.Conditions ?? []).map((c) => {
        const { Values, ...rest } = c;
        const hasConfig = Object.keys(rest).some((k) => k.endsWith('Config'));
        return hasConfig ? rest : c;
      });
      const { Rules: created = [] } = await sendCall(
        clients,
        awsCall('elbv2:CreateRule', this.#region, {
          ListenerArn: listener.ListenerArn ?? '',
          Priority: priority,
          Conditions: conditions,
          Actions: [
            {
              Type: 'fixed-response',
              FixedResponseConfig: {
                StatusCode: '503',
                ContentType: 'text/plain',
                MessageBody: `${this.#options.to ? `Ghost is being upgraded (${this.#options.from} to ${this.#options.to})` : 'Ghost is being restored to its previous version'}: changes are paused for a few minutes; reading is not affected. Please try again shortly. [${MAINTENANCE_TAG}]`,
              },
            },
          ],
          Tags: [{ Key: MAINTENANCE_TAG, Value: `${this.#options.from}-to-${this.#options.to}` }],
        }),
      );
      this.#maintenanceRule = created[0]?.RuleArn;
      this.#progress(`Writers now get 503 with a maintenance message (listener rule priority ${priority})`);
      return;
    }
    throw new Error(`No listener rule forwards to ${targetGroupArn}: cannot put up the maintenance answer`);
  }

  async #removeMaintenance(): Promise<void> {
    if (!this.#maintenanceRule) return;
    await sendCall(
      this.#options.clients,
      awsCall('elbv2:DeleteRule', this.#region, { RuleArn: this.#maintenanceRule }),
    );
    this.#maintenanceRule = undefined;
    this.#progress('Maintenance answer removed: CloudFront forwards to Ghost again');
  }

  async #restoreDeploymentConfiguration(): Promise<void> {
    if (!this.#previousDeployment) return;
    await sendCall(
      this.#options.clients,
      awsCall('ecs:UpdateService', this.#region, {
        cluster: this.#names.ecsCluster,
        service: this.#names.ecsService,
        deploymentConfiguration: this.#previousDeployment,
      }),
    );
  }

  /** Until Ghost's Admin API answers through the site with `version`'s major.minor (what Ghost reports). */
  async #waitForRelease(version: string, timeoutMs: number): Promise<void> {
    const admin = new GhostAdminClient({ url: this.url, adminApiKey: this.adminApiKey });
    const expected = version.split('.').slice(0, 2).join('.');
    await poll(
      `Ghost ${version} to answer at ${this.url}`,
      timeoutMs,
      { ...this.#options.pacing, intervalMs: Math.max(this.#options.pacing.intervalMs, 500) },
      async () => {
        const answered = await admin.site().then(
          (site) => String(site.version ?? ''),
          (error: unknown) => `no answer (${(error as Error).name})`,
        );
        return { done: answered === expected, state: `Admin API: ${answered}` };
      },
      (state) => this.#progress(`  ${state}`),
      WAITS,
    );
  }
}
