import type { DBClusterSnapshot } from '@aws-sdk/client-rds';
import { type AwsCallOf, awsCall, type RuntimeCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeFileSystemCall, readProtection } from '../reads/readProtection.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * Aurora names the snapshot it takes of an old primary before rebuilding it as a secondary after a
 * global failover `rds:unplanned-global-failover-<old primary cluster>-<timestamp>` (Aurora user
 * guide, aurora-global-database-disaster-recovery.html, "Recovering an Amazon Aurora global
 * database from an unplanned outage"). It is a system snapshot: it expires with the cluster's
 * backup retention.
 */
export const POINT_OF_FAILURE_PREFIX = 'rds:unplanned-global-failover-';

/** `arn:aws:rds:eu-west-1:123456789012:cluster:x` -> `{ partition: 'aws', account: '123456789012' }`. */
function accountOf(site: RegionSite) {
  const [, partition = 'aws', , , account = ''] = site.clusterArn.split(':');
  return { partition, account };
}

/** The data stack's vault (`<project>-content`) and its AWS Backup role (`<project>-backup-<region>`). */
export function startBackupCall(project: string, site: RegionSite): AwsCallOf<'backup:StartBackupJob'> {
  const { partition, account } = accountOf(site);
  return awsCall('backup:StartBackupJob', site.region, {
    BackupVaultName: `${project}-content`,
    ResourceArn: `arn:${partition}:elasticfilesystem:${site.region}:${account}:file-system/${site.fileSystemId}`,
    IamRoleArn: `arn:${partition}:iam::${account}:role/${project}-backup-${site.region}`,
    // AWS Backup's minimum; the default would let the job wait eight hours to start.
    StartWindowMinutes: 60,
    RecoveryPointTags: { purpose: 'salvage-before-overwrite' },
  });
}

function describeJobPlanned(site: RegionSite): RuntimeCall<'backup:DescribeBackupJob'> {
  return {
    operation: 'backup:DescribeBackupJob',
    region: site.region,
    known: {},
    atRunTime: 'BackupJobId: the job just started',
    readOnly: true,
  };
}

/** The cluster's snapshots, by its identifier (the parameter names a cluster of the caller's region). */
export function describeSnapshotsCall(site: RegionSite): AwsCallOf<'rds:DescribeDBClusterSnapshots'> {
  const identifier = site.clusterArn.split(':').at(-1) ?? site.clusterArn;
  return awsCall('rds:DescribeDBClusterSnapshots', site.region, { DBClusterIdentifier: identifier }, true);
}

/** `rds:unplanned-global-failover-ghost-primary-2026-12-06-22-50` -> `<project>-salvage-unplanned-global-failover-ghost-primary-2026-12-06-22-50`. */
export function salvageSnapshotName(project: string, source: string): string {
  return `${project}-salvage-${source.replace(/^rds:/, '')}`.slice(0, 255).replace(/-+$/, '');
}

export function copySnapshotCall(
  project: string,
  site: RegionSite,
  source: string,
): AwsCallOf<'rds:CopyDBClusterSnapshot'> {
  return awsCall('rds:CopyDBClusterSnapshot', site.region, {
    SourceDBClusterSnapshotIdentifier: source,
    TargetDBClusterSnapshotIdentifier: salvageSnapshotName(project, source),
    CopyTags: true,
  });
}

/**
 * Before a replication overwrites `site`'s file system, keeps what exists only there: after a
 * disaster switch the region that was lost holds the uploads made between its last replication and
 * the outage (and, if it was partly down, after). Its file system is either still the source of
 * the replication the disaster cut off, or fenced read-only (protection DISABLED, no replication).
 * Then an on-demand AWS Backup job of it runs to completion, and Aurora's point-of-failure snapshot
 * of its cluster is copied to a manual snapshot that does not expire. Both are named in the output.
 * `backedUp`: the operator says the file system was backed up already (--salvaged).
 */
export function salvageContent(
  deployment: Deployment,
  site: RegionSite,
  active: RegionSite,
  backedUp = false,
): SwitchStep {
  const start = startBackupCall(deployment.project, site);
  return {
    id: `salvage-${site.region}`,
    title: `Keep what exists only in ${site.region} before it is overwritten: back up ${site.fileSystemId}, copy Aurora's point-of-failure snapshot`,
    why: `After a disaster switch, ${site.region}'s file system holds the uploads its last replication did not carry, and Aurora's snapshot of the old writer is a system snapshot that expires; the replication about to be created overwrites the file system.`,
    calls: [
      describeReplicationCall(site),
      describeReplicationCall(active),
      describeFileSystemCall(site),
      start,
      describeJobPlanned(site),
      describeSnapshotsCall(site),
      {
        operation: 'rds:CopyDBClusterSnapshot',
        region: site.region,
        known: { CopyTags: true },
        atRunTime: `SourceDBClusterSnapshotIdentifier: each ${POINT_OF_FAILURE_PREFIX}* snapshot of the cluster; TargetDBClusterSnapshotIdentifier: ${deployment.project}-salvage-<its name>`,
      },
    ],
    verify: `The backup job of ${site.fileSystemId} is COMPLETED (its recovery point is named), and every ${POINT_OF_FAILURE_PREFIX}* snapshot of ${site.clusterArn} has a manual copy.`,
    ifFailed: `Nothing was overwritten. Read the backup job in the AWS Backup console of ${site.region} (vault ${deployment.project}-content) and run again; or back the file system up yourself and run with --salvaged.`,
    expected: {
      seconds: 10 * 60,
      basis: 'AWS Backup: an on-demand EFS backup of a small file system; snapshot copy starts at once',
    },
    async run(context) {
      const here = await readReplication(context, site);
      const live = await readReplication(context, active);
      const protection = await readProtection(context, site);
      const leftover = here?.source === site.fileSystemId && live?.source !== site.fileSystemId;
      const fenced = here === undefined && protection === 'DISABLED';
      const found: string[] = [];
      if (!leftover && !fenced) {
        found.push(
          `${site.fileSystemId} holds nothing of its own (${here ? `replication from ${here.source}` : 'no replication'}, protection ${protection}): no backup needed`,
        );
      } else if (backedUp) {
        found.push(`${site.fileSystemId}: backed up by the operator (--salvaged)`);
      } else {
        const { BackupJobId } = await sendCall(context.clients, start);
        if (!BackupJobId) throw new Error(`AWS Backup returned no job id for ${site.fileSystemId}`);
        const describe = awsCall('backup:DescribeBackupJob', site.region, { BackupJobId }, true);
        let recoveryPoint: string | undefined;
        await poll(
          `the backup of ${site.fileSystemId}`,
          8 * 60 * MINUTE,
          context.pacing,
          async () => {
            const job = await sendCall(context.clients, describe);
            if (job.State === 'ABORTED' || job.State === 'FAILED' || job.State === 'EXPIRED') {
              throw new Error(
                `The backup job ${BackupJobId} of ${site.fileSystemId} is ${job.State}: ${job.StatusMessage ?? 'no message'}`,
              );
            }
            recoveryPoint = job.RecoveryPointArn;
            return {
              done: job.State === 'COMPLETED',
              state: `backup job ${BackupJobId} ${job.State ?? 'unknown'} ${job.PercentDone ?? ''}`.trim(),
            };
          },
          context.progress,
        );
        found.push(
          `backup job ${BackupJobId} of ${site.fileSystemId} COMPLETED: recovery point ${recoveryPoint ?? '(not reported)'}`,
        );
      }
      const { DBClusterSnapshots = [] } = await sendCall(context.clients, describeSnapshotsCall(site));
      const names = new Set(DBClusterSnapshots.map((s: DBClusterSnapshot) => s.DBClusterSnapshotIdentifier));
      const failures = [...names].filter((n): n is string => n?.startsWith(POINT_OF_FAILURE_PREFIX) ?? false);
      for (const source of failures) {
        const copy = copySnapshotCall(deployment.project, site, source);
        const target = copy.input.TargetDBClusterSnapshotIdentifier ?? '';
        if (names.has(target)) {
          found.push(`Aurora snapshot ${source} kept as ${target} (already)`);
          continue;
        }
        await sendCall(context.clients, copy);
        found.push(`Aurora snapshot ${source} copied to ${target}`);
      }
      if (failures.length === 0) {
        found.push(
          `no Aurora point-of-failure snapshot of ${site.clusterArn.split(':').at(-1)} (none taken yet, or no failover from it)`,
        );
      }
      for (const line of found) context.progress(line);
      return found.join('; ');
    },
  };
}
