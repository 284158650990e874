import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import type { AwsCall } from './AwsCall.js';
import type { AwsClients } from './AwsClients.js';
import { activateOrigin, isOriginActive } from './activateOrigin.js';
import type { Deployment, RegionSite } from './Deployment.js';
import { type Pacing, poll } from './poll.js';
import type { Direction, Mode } from './SwitchRequest.js';
import { sendCall } from './sendCall.js';

export interface StepContext {
  readonly clients: AwsClients;
  readonly pacing: Pacing;
  readonly progress: (line: string) => void;
  /** Values a later step needs from an earlier one (when Ghost stopped). */
  readonly memo: Map<string, number>;
}

/** One ordered step: the calls it makes, what is verified after it, and what to do if it fails. */
export interface SwitchStep {
  readonly id: string;
  readonly title: string;
  readonly why: string;
  readonly calls: readonly AwsCall[];
  readonly verify: string;
  readonly ifFailed: string;
  /** The region it talks to may be down (disaster): a failure is reported and the switch goes on. */
  readonly bestEffort?: boolean;
  /** Makes the calls and verifies; returns what it found or did. Throws on failure. */
  run(context: StepContext): Promise<string>;
}

export interface SwitchPlan {
  readonly direction: Direction;
  readonly mode: Mode;
  readonly from: RegionSite;
  readonly to: RegionSite;
  readonly steps: readonly SwitchStep[];
}

const MINUTE = 60_000;

/**
 * The ordered steps that move the one Ghost from the active region to the other. failover: primary
 * to secondary; failback: back to the primary, first replicating the content written meanwhile.
 */
export function planSwitch(deployment: Deployment, direction: Direction, mode: Mode): SwitchPlan {
  const from = direction === 'failover' ? deployment.primary : deployment.secondary;
  const to = direction === 'failover' ? deployment.secondary : deployment.primary;
  const disaster = mode === 'disaster';
  const steps: SwitchStep[] = [preflight(deployment, from, to, direction, mode)];
  // In a disaster the region being left cannot send its content; it stays in its file system (and
  // its backups) to be recovered by hand.
  if (direction === 'failback' && !disaster) steps.push(replicateContent(from, to, 'bring-content-back', true));
  steps.push(scaleService(from, 0, disaster));
  if (!disaster) steps.push(waitForContentSync(from, to));
  steps.push(promoteDatabase(deployment, from, to, mode));
  steps.push(makeContentWritable(from, to, disaster));
  steps.push(scaleService(to, 1, false));
  steps.push(switchCloudFront(deployment, from, to));
  if (direction === 'failback') steps.push(replicateContent(to, from, 'restore-pilot-light', false, disaster));
  steps.push(switchAlarms(deployment, from, to, disaster));
  return { direction, mode, from, to, steps };
}

const placeholder = (text: string) => `<${text}>`;

function describeGlobal(deployment: Deployment, region: string): AwsCall {
  return {
    service: 'rds',
    operation: 'DescribeGlobalClusters',
    region,
    input: { GlobalClusterIdentifier: deployment.globalClusterId },
    readOnly: true,
  };
}

function describeReplication(site: RegionSite): AwsCall {
  return {
    service: 'efs',
    operation: 'DescribeReplicationConfigurations',
    region: site.region,
    input: { FileSystemId: site.fileSystemId },
    readOnly: true,
  };
}

function describeService(site: RegionSite): AwsCall {
  return {
    service: 'ecs',
    operation: 'DescribeServices',
    region: site.region,
    input: { cluster: site.ecsCluster, services: [site.ecsService] },
    readOnly: true,
  };
}

function getDistributionConfig(deployment: Deployment): AwsCall {
  return {
    service: 'cloudfront',
    operation: 'GetDistributionConfig',
    region: 'us-east-1',
    input: { Id: deployment.distributionId },
    readOnly: true,
  };
}

interface ReplicationView {
  readonly source?: string;
  readonly destination?: { FileSystemId?: string; Region?: string; Status?: string; LastReplicatedTimestamp?: Date };
}

/** The replication the file system takes part in, or undefined when it has none. */
async function replicationOf(context: StepContext, site: RegionSite): Promise<ReplicationView | undefined> {
  try {
    const { Replications = [] } = await sendCall(context.clients, describeReplication(site));
    const [replication] = Replications as {
      SourceFileSystemId?: string;
      Destinations?: ReplicationView['destination'][];
    }[];
    if (!replication) return undefined;
    return { source: replication.SourceFileSystemId, destination: replication.Destinations?.[0] };
  } catch (error) {
    if ((error as Error).name === 'ReplicationNotFound') return undefined;
    throw error;
  }
}

interface GlobalView {
  readonly status: string;
  readonly failover: string | undefined;
  readonly writer: string | undefined;
  readonly members: readonly string[];
}

async function globalState(context: StepContext, deployment: Deployment, region: string): Promise<GlobalView> {
  const { GlobalClusters = [] } = await sendCall(context.clients, describeGlobal(deployment, region));
  const cluster = GlobalClusters[0] as
    | {
        Status?: string;
        FailoverState?: { Status?: string };
        GlobalClusterMembers?: { DBClusterArn?: string; IsWriter?: boolean }[];
      }
    | undefined;
  if (!cluster) throw new Error(`The global database '${deployment.globalClusterId}' was not found in ${region}`);
  const members = cluster.GlobalClusterMembers ?? [];
  return {
    status: cluster.Status ?? 'unknown',
    failover: cluster.FailoverState?.Status,
    writer: members.find((m) => m.IsWriter)?.DBClusterArn,
    members: members.flatMap((m) => (m.DBClusterArn ? [m.DBClusterArn] : [])),
  };
}

interface ServiceView {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly deployments: number;
  readonly rollout: string | undefined;
  readonly targetGroupArn: string | undefined;
}

async function serviceState(context: StepContext, site: RegionSite): Promise<ServiceView> {
  const { services = [], failures = [] } = await sendCall(context.clients, describeService(site));
  const service = services[0];
  if (!service || service.status === 'INACTIVE') {
    const reason = failures[0]?.reason ?? 'not found';
    throw new Error(`ECS service ${site.ecsCluster}/${site.ecsService} in ${site.region}: ${reason}`);
  }
  const primary = (service.deployments ?? []).find((d: { status?: string }) => d.status === 'PRIMARY');
  return {
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    deployments: (service.deployments ?? []).length,
    rollout: primary?.rolloutState,
    targetGroupArn: service.loadBalancers?.[0]?.targetGroupArn,
  };
}

function describeTargetHealth(site: RegionSite, targetGroupArn: string): AwsCall {
  return {
    service: 'elbv2',
    operation: 'DescribeTargetHealth',
    region: site.region,
    input: { TargetGroupArn: targetGroupArn },
    readOnly: true,
  };
}

/** How many of the target group's targets are healthy, and a summary such as `healthy 1, initial 1`. */
async function targetHealth(context: StepContext, site: RegionSite, targetGroupArn: string) {
  const { TargetHealthDescriptions = [] } = await sendCall(context.clients, describeTargetHealth(site, targetGroupArn));
  const counts = new Map<string, number>();
  for (const target of TargetHealthDescriptions as { TargetHealth?: { State?: string } }[]) {
    const state = target.TargetHealth?.State ?? 'unknown';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return {
    healthy: counts.get('healthy') ?? 0,
    summary: [...counts].map(([state, n]) => `${state} ${n}`).join(', ') || 'none registered',
  };
}

function preflight(
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
  direction: Direction,
  mode: Mode,
): SwitchStep {
  const calls: AwsCall[] = [
    describeGlobal(deployment, to.region),
    describeReplication(to),
    describeService(to),
    getDistributionConfig(deployment),
  ];
  if (mode === 'planned') calls.push(describeService(from));
  return {
    id: 'preflight',
    title: 'Check the deployment (read only)',
    why: 'Stop before changing anything if a part is missing or the target is not ready to take over.',
    calls,
    verify: `${to.region}'s cluster is a member of ${deployment.globalClusterId};${direction === 'failover' && mode === 'planned' ? ` ${to.fileSystemId} is the destination of ${from.region}'s replication;` : ''} its ECS service exists; the distribution has origins ${from.originId} and ${to.originId}${mode === 'planned' ? `; ${from.region}'s service answers` : ''}.`,
    ifFailed:
      'Nothing was changed. Fix what the message names (deploy the missing stack, pass the right identifiers), then run again.',
    async run(context) {
      const global = await globalState(context, deployment, to.region);
      if (!global.members.includes(to.clusterArn)) {
        throw new Error(
          `${to.clusterArn} is not a member of the global database (members: ${global.members.join(', ') || 'none'}). ` +
            'Re-create it from its data stack so it joins the global database, then run again.',
        );
      }
      if (direction === 'failover' && mode === 'planned' && global.writer !== to.clusterArn) {
        const replication = await replicationOf(context, to);
        if (replication?.source === undefined || replication.destination?.FileSystemId !== to.fileSystemId) {
          throw new Error(
            `${to.fileSystemId} in ${to.region} receives no replication: its content is not a copy of ${from.region}'s. ` +
              'Deploy the primary data stack with ReplicaFileSystemId set, wait for the first sync, then run again.',
          );
        }
      }
      await serviceState(context, to);
      if (mode === 'planned') await serviceState(context, from);
      const { DistributionConfig: config } = await sendCall(context.clients, getDistributionConfig(deployment));
      const origins = ((config as DistributionConfig | undefined)?.Origins?.Items ?? []).map((o) => o.Id);
      for (const id of [from.originId, to.originId]) {
        if (!origins.includes(id)) {
          throw new Error(
            `Distribution ${deployment.distributionId} has no origin '${id}' (has: ${origins.join(', ')})`,
          );
        }
      }
      const writer = global.writer === to.clusterArn ? `${to.region} (already)` : (global.writer ?? 'none');
      return `global database ${global.status}, writer ${writer}`;
    },
  };
}

function scaleService(site: RegionSite, desiredCount: 0 | 1, bestEffort: boolean): SwitchStep {
  const stopping = desiredCount === 0;
  // Starting forces a new deployment, so that its rollout state describes this start (scaling alone
  // would leave an old, long completed deployment in place).
  const update: AwsCall = {
    service: 'ecs',
    operation: 'UpdateService',
    region: site.region,
    input: stopping
      ? { cluster: site.ecsCluster, service: site.ecsService, desiredCount }
      : { cluster: site.ecsCluster, service: site.ecsService, desiredCount, forceNewDeployment: true },
  };
  return {
    id: stopping ? `stop-ghost-${site.region}` : `start-ghost-${site.region}`,
    title: stopping ? `Stop Ghost in ${site.region}` : `Start Ghost in ${site.region} and wait until it is healthy`,
    why: stopping
      ? 'Ghost supports one instance per database: the old one stops before the database moves.'
      : 'The service runs its one task on the promoted database and the now writable content; ECS marks the deployment complete once the ALB finds the sidecar ready.',
    calls: stopping
      ? [update, describeService(site)]
      : [update, describeService(site), describeTargetHealth(site, placeholder("the service's target group"))],
    verify: stopping
      ? 'runningCount and pendingCount are 0.'
      : "runningCount is 1, one deployment, rolloutState COMPLETED (the circuit breaker did not roll back), and the ALB reports the task's target healthy (the sidecar's /health/ready).",
    ifFailed: stopping
      ? bestEffort
        ? `${site.region} did not answer; the switch goes on. When the region is back, check that its service has desiredCount 0 (its database is no longer the writer, so its Ghost cannot write).`
        : `Check the service's events in ${site.region} (aws ecs describe-services). Nothing else changed yet: run again once the task has stopped.`
      : `Read the stopped task's reason and the health-sidecar's /health output in the ${site.region} logs (${site.ecsService}); fix and run again (finished steps are skipped).`,
    bestEffort,
    async run(context) {
      const before = await serviceState(context, site);
      if (before.desired !== desiredCount) await sendCall(context.clients, update);
      const timeout = bestEffort ? 2 * MINUTE : stopping ? 10 * MINUTE : 20 * MINUTE;
      const state = await poll(
        stopping ? `Ghost to stop in ${site.region}` : `Ghost to become healthy in ${site.region}`,
        timeout,
        context.pacing,
        async () => {
          const s = await serviceState(context, site);
          if (!stopping && s.rollout === 'FAILED') {
            throw new Error(`The deployment in ${site.region} failed (circuit breaker rolled it back)`);
          }
          const state = `desired ${s.desired}, running ${s.running}, pending ${s.pending}, rollout ${s.rollout ?? 'n/a'}`;
          if (stopping) return { done: s.running === 0 && s.pending === 0, state };
          const started =
            s.running === 1 && s.deployments === 1 && (s.rollout === undefined || s.rollout === 'COMPLETED');
          if (!started || !s.targetGroupArn) return { done: started, state };
          const health = await targetHealth(context, site, s.targetGroupArn);
          return { done: health.healthy === 1, state: `${state}, targets ${health.summary}` };
        },
        context.progress,
      );
      if (stopping) context.memo.set('ghostStoppedAt', context.pacing.now());
      return state;
    },
  };
}

function waitForContentSync(from: RegionSite, to: RegionSite): SwitchStep {
  return {
    id: 'sync-content',
    title: `Wait until EFS has replicated to ${to.region} everything written before Ghost stopped`,
    why: 'EFS replicates every few minutes (RPO about 15 min): deleting the replication earlier would lose the last uploads.',
    calls: [describeReplication(from)],
    verify: "The destination's LastReplicatedTimestamp is later than the moment Ghost stopped.",
    ifFailed:
      'Replication has not caught up. Run again to keep waiting, or run with --mode disaster to accept losing the content written in the last minutes.',
    async run(context) {
      const stoppedAt = context.memo.get('ghostStoppedAt') ?? context.pacing.now();
      return poll(
        `EFS replication to reach the moment Ghost stopped`,
        30 * MINUTE,
        context.pacing,
        async () => {
          const replication = await replicationOf(context, from);
          if (!replication?.destination) {
            throw new Error(`${from.fileSystemId} has no replication to ${to.region}; nothing to wait for`);
          }
          const last = replication.destination.LastReplicatedTimestamp;
          return {
            done: last !== undefined && last.getTime() >= stoppedAt,
            state: `status ${replication.destination.Status}, last replicated ${last?.toISOString() ?? 'never'}`,
          };
        },
        context.progress,
      );
    },
  };
}

function promoteDatabase(deployment: Deployment, from: RegionSite, to: RegionSite, mode: Mode): SwitchStep {
  const call: AwsCall =
    mode === 'planned'
      ? {
          service: 'rds',
          operation: 'SwitchoverGlobalCluster',
          region: to.region,
          input: { GlobalClusterIdentifier: deployment.globalClusterId, TargetDbClusterIdentifier: to.clusterArn },
        }
      : {
          service: 'rds',
          operation: 'FailoverGlobalCluster',
          region: to.region,
          input: {
            GlobalClusterIdentifier: deployment.globalClusterId,
            TargetDbClusterIdentifier: to.clusterArn,
            AllowDataLoss: true,
          },
        };
  return {
    id: 'promote-database',
    title:
      mode === 'planned'
        ? `Switch the Aurora global database's writer to ${to.region} (switchover, no data loss)`
        : `Fail the Aurora global database over to ${to.region} (allowing the loss of unreplicated writes)`,
    why:
      mode === 'planned'
        ? 'A switchover waits for the secondary to catch up and keeps both clusters in the global database.'
        : 'The primary region is down: the secondary becomes the writer with what it has (lag is typically under a second).',
    calls: [call, describeGlobal(deployment, to.region)],
    verify: `${to.clusterArn} is the writer, the global database is available and no failover is in progress.`,
    ifFailed:
      mode === 'planned'
        ? `Read the global database's events. Ghost is stopped in ${from.region}: run again, or serve from there again with 'aws ecs update-service --region ${from.region} --cluster ${from.ecsCluster} --service ${from.ecsService} --desired-count 1'.`
        : `Read the global database's events in ${to.region} and run again. If the cluster cannot be promoted at all, detach it ('aws rds remove-from-global-cluster --region ${to.region} --global-cluster-identifier ${deployment.globalClusterId} --db-cluster-identifier ${to.clusterArn}', it becomes a standalone writer) and make the remaining calls of this plan by hand, in order.`,
    async run(context) {
      const before = await globalState(context, deployment, to.region);
      if (before.writer !== to.clusterArn) await sendCall(context.clients, call);
      return poll(
        `${to.region} to become the global writer`,
        20 * MINUTE,
        context.pacing,
        async () => {
          const s = await globalState(context, deployment, to.region);
          return {
            done: s.writer === to.clusterArn && s.status === 'available' && s.failover === undefined,
            state: `status ${s.status}, writer ${s.writer ?? 'none'}${s.failover ? `, failover ${s.failover}` : ''}`,
          };
        },
        context.progress,
      );
    },
  };
}

function makeContentWritable(from: RegionSite, to: RegionSite, disaster: boolean): SwitchStep {
  const call: AwsCall = {
    service: 'efs',
    operation: 'DeleteReplicationConfiguration',
    region: to.region,
    input: disaster
      ? { FileSystemId: to.fileSystemId, DeletionMode: 'LOCAL_CONFIGURATION_ONLY' }
      : { FileSystemId: to.fileSystemId },
  };
  return {
    id: 'make-content-writable',
    title: `Remove EFS replication ${from.region} -> ${to.region} so ${to.fileSystemId} becomes writable`,
    why: 'A replication destination is read-only; Ghost needs to write uploads and themes.',
    calls: [call, describeReplication(to)],
    verify: `${to.fileSystemId} takes part in no replication any more (ReplicationNotFound).`,
    ifFailed: `Run again (deletion takes minutes). If it is stuck, delete it in the console from ${to.region} with "delete only in this region".`,
    async run(context) {
      const before = await replicationOf(context, to);
      if (before === undefined) return 'no replication (already writable)';
      if (before.source === to.fileSystemId) return `already the source (replicating to ${before.destination?.Region})`;
      if (before.destination?.Status !== 'DELETING') await sendCall(context.clients, call);
      return poll(
        `the replication of ${to.fileSystemId} to be deleted`,
        20 * MINUTE,
        context.pacing,
        async () => {
          const replication = await replicationOf(context, to);
          return {
            done: replication === undefined,
            state: replication ? `status ${replication.destination?.Status ?? 'unknown'}` : 'deleted',
          };
        },
        context.progress,
      );
    },
  };
}

function replicateContent(
  source: RegionSite,
  destination: RegionSite,
  id: string,
  waitForSync: boolean,
  bestEffort = false,
): SwitchStep {
  const unprotect: AwsCall = {
    service: 'efs',
    operation: 'UpdateFileSystemProtection',
    region: destination.region,
    input: { FileSystemId: destination.fileSystemId, ReplicationOverwriteProtection: 'DISABLED' },
  };
  const create: AwsCall = {
    service: 'efs',
    operation: 'CreateReplicationConfiguration',
    region: source.region,
    input: {
      SourceFileSystemId: source.fileSystemId,
      Destinations: [{ Region: destination.region, FileSystemId: destination.fileSystemId }],
    },
  };
  return {
    id,
    title: waitForSync
      ? `Replicate the content written in ${source.region} back to ${destination.region} and wait for the first sync`
      : `Re-create EFS replication ${source.region} -> ${destination.region} (the pilot light's copy)`,
    why: waitForSync
      ? `${destination.region}'s file system is stale since the failover; it is overwritten with the current content while Ghost still serves.`
      : `${destination.region} goes back to standby with a replica of the content, ready for the next failover.`,
    calls: [unprotect, create, describeReplication(source)],
    verify: waitForSync
      ? 'The replication is ENABLED and has a LastReplicatedTimestamp (the first full copy finished).'
      : 'The replication exists and is ENABLING or ENABLED (the first copy continues in the background).',
    ifFailed: waitForSync
      ? 'Ghost still serves from the current region; nothing else changed. Run again: an existing replication is kept and the wait resumes.'
      : `Ghost serves from ${source.region}; only the standby copy is missing. Run again when ${destination.region} answers, or create the replication in the console.`,
    bestEffort,
    async run(context) {
      const existing = await replicationOf(context, source);
      if (existing === undefined) {
        await sendCall(context.clients, unprotect);
        await sendCall(context.clients, create);
      } else if (existing.destination?.FileSystemId !== destination.fileSystemId) {
        throw new Error(
          `${source.fileSystemId} already replicates to ${existing.destination?.FileSystemId} in ${existing.destination?.Region}`,
        );
      }
      return poll(
        waitForSync
          ? `the first replication to ${destination.region}`
          : `replication to ${destination.region} to start`,
        waitForSync ? 240 * MINUTE : 10 * MINUTE,
        context.pacing,
        async () => {
          const replication = await replicationOf(context, source);
          const status = replication?.destination?.Status ?? 'missing';
          if (status === 'ERROR') throw new Error(`Replication to ${destination.region} is in ERROR`);
          const last = replication?.destination?.LastReplicatedTimestamp;
          return {
            done: waitForSync
              ? status === 'ENABLED' && last !== undefined
              : status === 'ENABLED' || status === 'ENABLING',
            state: `status ${status}, last replicated ${last?.toISOString() ?? 'never'}`,
          };
        },
        context.progress,
      );
    },
  };
}

function switchCloudFront(deployment: Deployment, from: RegionSite, to: RegionSite): SwitchStep {
  const update: AwsCall = {
    service: 'cloudfront',
    operation: 'UpdateDistribution',
    region: 'us-east-1',
    input: {
      Id: deployment.distributionId,
      IfMatch: placeholder('ETag from GetDistributionConfig'),
      DistributionConfig: placeholder(
        `current config with origin group members [${to.originId}, ${from.originId}] and behaviors on ${from.originId} moved to ${to.originId}`,
      ),
    },
  };
  const getDistribution: AwsCall = {
    service: 'cloudfront',
    operation: 'GetDistribution',
    region: 'us-east-1',
    input: { Id: deployment.distributionId },
    readOnly: true,
  };
  return {
    id: 'switch-cloudfront',
    title: `Make ${to.originId} CloudFront's first origin and the target of write paths`,
    why: 'Cache misses go to the active region without a failed attempt first; /ghost/*, /members/* and the other write paths reach the new Ghost.',
    calls: [getDistributionConfig(deployment), update, getDistributionConfig(deployment), getDistribution],
    verify: `The origin group lists ${to.originId} first, no behavior targets ${from.originId} alone, and the distribution is Deployed.`,
    ifFailed:
      'Ghost already runs in the new region; cached pages and failover still reach it. Run again (a concurrent edit changes the ETag), or edit the origin group order in the console.',
    async run(context) {
      const current = await sendCall(context.clients, getDistributionConfig(deployment));
      const config = current.DistributionConfig as DistributionConfig;
      if (!isOriginActive(config, to.originId, from.originId)) {
        await sendCall(context.clients, {
          ...update,
          input: {
            Id: deployment.distributionId,
            IfMatch: current.ETag,
            DistributionConfig: activateOrigin(config, to.originId, from.originId),
          },
        });
      }
      const after = await sendCall(context.clients, getDistributionConfig(deployment));
      if (!isOriginActive(after.DistributionConfig as DistributionConfig, to.originId, from.originId)) {
        throw new Error('The distribution config did not keep the new origin order');
      }
      return poll(
        'the distribution to be deployed',
        25 * MINUTE,
        context.pacing,
        async () => {
          const { Distribution } = await sendCall(context.clients, getDistribution);
          return { done: Distribution?.Status === 'Deployed', state: `status ${Distribution?.Status}` };
        },
        context.progress,
      );
    },
  };
}

function switchAlarms(deployment: Deployment, from: RegionSite, to: RegionSite, disaster: boolean): SwitchStep {
  const AlarmNames = [...deployment.regionalAlarmNames];
  const disable: AwsCall = {
    service: 'cloudwatch',
    operation: 'DisableAlarmActions',
    region: from.region,
    input: { AlarmNames },
  };
  const enable: AwsCall = {
    service: 'cloudwatch',
    operation: 'EnableAlarmActions',
    region: to.region,
    input: { AlarmNames },
  };
  const describe: AwsCall = {
    service: 'cloudwatch',
    operation: 'DescribeAlarms',
    region: to.region,
    input: { AlarmNames },
    readOnly: true,
  };
  return {
    id: 'switch-alarms',
    title: `Let ${to.region}'s health and ECS alarms notify, silence ${from.region}'s`,
    why: 'Those alarms only mean something where Ghost runs; the standby region has no task by design.',
    calls: [disable, enable, describe],
    verify: `Every alarm in ${to.region} has ActionsEnabled true.`,
    ifFailed:
      'Ghost runs in the new region; only notifications are affected. Run again, or deploy the observability stacks with swapped Role values.',
    async run(context) {
      let note = '';
      try {
        await sendCall(context.clients, disable);
      } catch (error) {
        if (!disaster) throw error;
        note = ` (${from.region} did not answer; disable its alarm actions when it is back)`;
      }
      await sendCall(context.clients, enable);
      const { MetricAlarms = [] } = await sendCall(context.clients, describe);
      const enabled = (MetricAlarms as { AlarmName?: string; ActionsEnabled?: boolean }[]).filter(
        (a) => a.ActionsEnabled,
      );
      if (enabled.length !== AlarmNames.length) {
        const missing = AlarmNames.filter((name) => !enabled.some((a) => a.AlarmName === name));
        throw new Error(`Alarms without actions in ${to.region}: ${missing.join(', ')}`);
      }
      return `${enabled.length} alarms notify in ${to.region}${note}`;
    },
  };
}
