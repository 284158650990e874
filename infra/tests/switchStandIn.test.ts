// @module-tag integration
import {
  BackupClient,
  DescribeBackupJobCommand,
  StartBackupJobCommand,
  type StartBackupJobCommandInput,
} from '@aws-sdk/client-backup';
import { CloudFrontClient, GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import {
  CreateReplicationConfigurationCommand,
  DeleteReplicationConfigurationCommand,
  EFSClient,
  UpdateFileSystemProtectionCommand,
} from '@aws-sdk/client-efs';
import { FailoverGlobalClusterCommand, RDSClient, SwitchoverGlobalClusterCommand } from '@aws-sdk/client-rds';
import { awsErrorCodes } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';
import { CLUSTERS, PRIMARY, PROJECT, SECONDARY, synchronization } from './support/deploymentInMoto.js';
import { useSwitchTestBed } from './support/switchTestBed.js';

/** The error a call to the stand-in answers with: its code and message. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return { code: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('the stand-in accepted a call AWS refuses');
}

/**
 * The extended moto refuses what AWS documents as refused, and only with an error code AWS's
 * model lists for that operation: a plan tested against it meets the refusals it would meet on AWS.
 */
describe('the stand-in refuses as AWS does, with the codes AWS lists', () => {
  const bed = useSwitchTestBed({ extended: true, deployment: { replication: true } });
  const efs = (region: string) => new EFSClient({ region });
  const rds = (region: string) => new RDSClient({ region });
  const fs = (region: string) => bed.deployment.fileSystems.get(region) ?? '';
  const globalId = `${PROJECT}-global`;

  async function expectListed(service: string, operation: string, code: string) {
    const [codes = []] = await awsErrorCodes([{ service, operation }]);
    expect(codes, `${service}:${operation}`).toContain(code);
  }

  it('EFS: a replication destination keeps its protection (ReplicationAlreadyExists)', async () => {
    const { code, message } = await refusal(
      efs(SECONDARY).send(
        new UpdateFileSystemProtectionCommand({
          FileSystemId: fs(SECONDARY),
          ReplicationOverwriteProtection: 'ENABLED',
        }),
      ),
    );
    expect(message).toMatch(/already included in a replication configuration/);
    await expectListed('efs', 'UpdateFileSystemProtection', code);
  });

  it('EFS: a replication source keeps its protection too (ReplicationAlreadyExists: "already included in a replication configuration")', async () => {
    const { code, message } = await refusal(
      efs(PRIMARY).send(
        new UpdateFileSystemProtectionCommand({
          FileSystemId: fs(PRIMARY),
          ReplicationOverwriteProtection: 'DISABLED',
        }),
      ),
    );
    expect(code).toBe('ReplicationAlreadyExists');
    expect(message).toMatch(/already included in a replication configuration/);
    await expectListed('efs', 'UpdateFileSystemProtection', code);
  });

  it('EFS: a file system whose protection is DISABLED or REPLICATING is read-only; ENABLED takes writes', async () => {
    // The primary (source, ENABLED) takes a write; the secondary (destination, REPLICATING) refuses it.
    expect(await bed.moto.writeFile(fs(PRIMARY), 'a.jpg')).toBe(true);
    expect(await bed.moto.writeFile(fs(SECONDARY), 'b.jpg')).toBe(false);
    await bed.recreateDeployment({});
    expect(await bed.moto.writeFile(fs(SECONDARY), 'c.jpg')).toBe(true);
    await efs(SECONDARY).send(
      new UpdateFileSystemProtectionCommand({
        FileSystemId: fs(SECONDARY),
        ReplicationOverwriteProtection: 'DISABLED',
      }),
    );
    expect(await bed.moto.writeFile(fs(SECONDARY), 'd.jpg')).toBe(false);
    expect(await bed.moto.filesOf(fs(SECONDARY))).toEqual(['c.jpg']);
  });

  it('AWS Backup: a job needs the vault, the file system and the role; an unknown job is not found', async () => {
    const backup = new BackupClient({ region: PRIMARY });
    const start = (input: Partial<StartBackupJobCommandInput>) =>
      refusal(
        backup.send(
          new StartBackupJobCommand({
            BackupVaultName: `${PROJECT}-content`,
            ResourceArn: `arn:aws:elasticfilesystem:${PRIMARY}:123456789012:file-system/${fs(PRIMARY)}`,
            IamRoleArn: `arn:aws:iam::123456789012:role/${PROJECT}-backup-${PRIMARY}`,
            ...input,
          }),
        ),
      );
    const noVault = await start({ BackupVaultName: 'no-such-vault' });
    const noFileSystem = await start({
      ResourceArn: `arn:aws:elasticfilesystem:${PRIMARY}:123456789012:file-system/fs-00000000`,
    });
    const noRole = await start({ IamRoleArn: 'arn:aws:iam::123456789012:role/no-such-role' });
    const noJob = await refusal(backup.send(new DescribeBackupJobCommand({ BackupJobId: 'NO-SUCH-JOB' })));
    expect([noVault.code, noFileSystem.code, noRole.code, noJob.code]).toEqual([
      'ResourceNotFoundException',
      'ResourceNotFoundException',
      'InvalidParameterValueException',
      'ResourceNotFoundException',
    ]);
    for (const { code } of [noVault, noFileSystem, noRole]) await expectListed('backup', 'StartBackupJob', code);
    await expectListed('backup', 'DescribeBackupJob', noJob.code);
  });

  it('EFS: a file system takes part in one replication only (ConflictException)', async () => {
    const { code, message } = await refusal(
      efs(SECONDARY).send(
        new CreateReplicationConfigurationCommand({
          SourceFileSystemId: fs(SECONDARY),
          Destinations: [{ Region: PRIMARY, FileSystemId: fs(PRIMARY) }],
        }),
      ),
    );
    expect(message).toMatch(/already a source or destination/);
    await expectListed('efs', 'CreateReplicationConfiguration', code);
  });

  it("EFS: creating or deleting both sides while the other region is down fails on AWS's side", async () => {
    await bed.moto.startOutage(SECONDARY);
    const deleted = await refusal(
      efs(PRIMARY).send(new DeleteReplicationConfigurationCommand({ SourceFileSystemId: fs(PRIMARY) })),
    );
    expect(deleted.message).toMatch(/eu-central-1 does not answer/);
    await expectListed('efs', 'DeleteReplicationConfiguration', deleted.code);
    await bed.moto.endOutage(SECONDARY);

    await bed.recreateDeployment({});
    await efs(SECONDARY).send(
      new UpdateFileSystemProtectionCommand({
        FileSystemId: fs(SECONDARY),
        ReplicationOverwriteProtection: 'DISABLED',
      }),
    );
    await bed.moto.startOutage(SECONDARY);
    const created = await refusal(
      efs(PRIMARY).send(
        new CreateReplicationConfigurationCommand({
          SourceFileSystemId: fs(PRIMARY),
          Destinations: [{ Region: SECONDARY, FileSystemId: fs(SECONDARY) }],
        }),
      ),
    );
    expect(created.message).toMatch(/eu-central-1 does not answer/);
    await expectListed('efs', 'CreateReplicationConfiguration', created.code);
    await bed.moto.endOutage(SECONDARY);
  });

  it('Aurora: an unknown cluster, the writer itself, and an old primary still being rebuilt are refused', async () => {
    const switchover = (target: string) =>
      refusal(
        rds(SECONDARY).send(
          new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: globalId, TargetDbClusterIdentifier: target }),
        ),
      );
    const unknown = await switchover('no-such-cluster');
    expect(unknown.code).toBe('DBClusterNotFoundFault');
    await expectListed('rds', 'SwitchoverGlobalCluster', unknown.code);
    const writer = await switchover(CLUSTERS[PRIMARY]);
    expect(writer.message).toMatch(/already the primary/);
    await expectListed('rds', 'SwitchoverGlobalCluster', writer.code);

    // A failover leaves the old primary pending-resync until its region is back and it is rebuilt.
    await bed.moto.setTiming({ transition_seconds: 0.2, pending_seconds: 0.05, rebuild_seconds: 30 });
    await bed.moto.startOutage(PRIMARY);
    await rds(SECONDARY).send(
      new FailoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: CLUSTERS[SECONDARY],
        AllowDataLoss: true,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    await bed.moto.endOutage(PRIMARY);
    expect(await synchronization()).toEqual({
      [CLUSTERS[PRIMARY]]: 'pending-resync',
      [CLUSTERS[SECONDARY]]: 'connected',
    });
    const resyncing = await refusal(
      rds(PRIMARY).send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: CLUSTERS[PRIMARY],
          AllowDataLoss: true,
        }),
      ),
    );
    expect(resyncing.message).toMatch(/pending-resync/);
    await expectListed('rds', 'FailoverGlobalCluster', resyncing.code);
  });
  it('RDS Data API: refused on a secondary (no writer instance), without EnableHttpEndpoint, with an unknown secret', async () => {
    const { SecretsManagerClient, DescribeSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const { RDSDataClient, ExecuteStatementCommand } = await import('@aws-sdk/client-rds-data');
    const { CreateDBClusterCommand } = await import('@aws-sdk/client-rds');
    const arn = (region: string) =>
      `arn:aws:rds:${region}:123456789012:cluster:${CLUSTERS[region as keyof typeof CLUSTERS]}`;
    const secret = async (region: string) =>
      (
        await new SecretsManagerClient({ region }).send(
          new DescribeSecretCommand({ SecretId: `${PROJECT}/database-app` }),
        )
      ).ARN ?? '';
    const query = async (region: string, secretArn: string) =>
      new RDSDataClient({ region }).send(
        new ExecuteStatementCommand({
          resourceArn: arn(region),
          secretArn,
          database: 'ghost',
          sql: 'SELECT holder, written_at FROM ghost_ha_heartbeat ORDER BY written_at DESC LIMIT 1',
        }),
      );
    expect((await query(PRIMARY, await secret(PRIMARY))).records).toEqual([]);
    const secondary = await refusal(query(SECONDARY, await secret(SECONDARY)));
    expect(secondary).toMatchObject({
      code: 'BadRequestException',
      message: expect.stringMatching(/no writer instance/),
    });
    const unknownSecret = await refusal(
      query(PRIMARY, `arn:aws:secretsmanager:${PRIMARY}:123456789012:secret:${PROJECT}/nothing-AbCdEf`),
    );
    expect(unknownSecret.code).toBe('SecretsErrorException');
    // A cluster created without EnableHttpEndpoint (the data template sets it in both regions).
    await rds(PRIMARY).send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'no-data-api',
        Engine: 'aurora-mysql',
        EngineVersion: '8.0.mysql_aurora.3.08.2',
        MasterUsername: 'admin',
        MasterUserPassword: 'not-a-real-password',
      }),
    );
    const disabled = await refusal(
      new RDSDataClient({ region: PRIMARY }).send(
        new ExecuteStatementCommand({
          resourceArn: `arn:aws:rds:${PRIMARY}:123456789012:cluster:no-data-api`,
          secretArn: await secret(PRIMARY),
          sql: 'SELECT holder, written_at FROM ghost_ha_heartbeat',
        }),
      ),
    );
    expect(disabled.code).toBe('HttpEndpointNotEnabledException');
    for (const { code } of [secondary, unknownSecret, disabled])
      await expectListed('rds-data', 'ExecuteStatement', code);
  });

  it('CloudFront: an update must carry the current ETag in IfMatch, and each update changes it', async () => {
    const cloudfront = new CloudFrontClient({ region: 'us-east-1' });
    const Id = bed.deployment.distributionId;
    const read = await cloudfront.send(new GetDistributionConfigCommand({ Id }));
    const update = (IfMatch: string | undefined) =>
      cloudfront.send(new UpdateDistributionCommand({ Id, IfMatch, DistributionConfig: read.DistributionConfig }));
    const missing = await refusal(update(undefined));
    expect(missing.code).toBe('InvalidIfMatchVersion');
    const wrong = await refusal(update('E2QWRUHAPOMQZL'));
    expect(wrong.code).toBe('PreconditionFailed');
    await update(read.ETag);
    // A second update from the same (now stale) read would overwrite the first one: refused.
    const stale = await refusal(update(read.ETag));
    expect(stale.code).toBe('PreconditionFailed');
    for (const { code } of [missing, wrong, stale]) await expectListed('cloudfront', 'UpdateDistribution', code);
    expect((await cloudfront.send(new GetDistributionConfigCommand({ Id }))).ETag).not.toBe(read.ETag);
  });
});
