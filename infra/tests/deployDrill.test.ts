// @module-tag integration
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { MotoServer, pythonToolsBin, REPO_ROOT, validateAwsInputs, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PRIMARY = 'eu-west-1';
const SECONDARY = 'eu-central-1';
/** moto's account, in every ARN and registry it names. */
const ACCOUNT = '123456789012';
const SERVICES = ['ghost', 'health-sidecar', 'cache-invalidator'] as const;

const SETTINGS = `
PROJECT=ghost-ha
PRIMARY_REGION=${PRIMARY}
SECONDARY_REGION=${SECONDARY}
SITE_URL=https://blog.example.com
ALIASES=blog.example.com
PRIMARY_CERTIFICATE_ARN=arn:aws:acm:${PRIMARY}:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555
SECONDARY_CERTIFICATE_ARN=arn:aws:acm:${SECONDARY}:${ACCOUNT}:certificate/22222222-2222-3333-4444-555555555555
EDGE_CERTIFICATE_ARN=arn:aws:acm:us-east-1:${ACCOUNT}:certificate/33333333-2222-3333-4444-555555555555
PRIMARY_ORIGIN_HOST=origin-${PRIMARY}.blog.example.com
SECONDARY_ORIGIN_HOST=origin-${SECONDARY}.blog.example.com
`;

interface StandInEvent {
  readonly event: 'deployed' | 'rolled-back' | 'user-created' | 'lease-row' | 'ghost-started' | 'ghost-stopped';
  readonly region?: string;
  readonly stack?: string;
  readonly name?: string;
  readonly parameters?: Record<string, string>;
  readonly images?: Record<string, string>;
}

interface RecordedCall {
  readonly service: string;
  readonly operation: string;
  readonly region: string;
  readonly input: Record<string, unknown>;
}

/**
 * scripts/deploy.sh against stand-ins, on an empty account: the AWS CLI is
 * infra/tests/support/aws_cli_stand_in.py (every call checked against AWS's models; CloudFormation
 * and the Data API modelled, RDS and Secrets Manager answered by moto), and the image check's SDK
 * calls go to moto's ECR, which holds what scripts/package.sh would have pushed.
 */
describe('deploy drill: scripts/deploy.sh on an empty account, against the stand-ins', () => {
  let moto: MotoServer | undefined;
  let dir = '';
  let stateDir = '';
  let bin = '';
  let artifacts = '';
  let config = '';
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    moto = await MotoServer.start({ extended: true });
    restoreEnv = moto.useInThisProcess();
    // A switchover in the stand-in takes a moment, not minutes.
    await moto.setTiming({ transition_seconds: 0.2, pending_seconds: 0.05 });
    dir = await mkdtemp(join(tmpdir(), 'ghost-ha-deploy-drill-'));
    bin = join(dir, 'bin');
    await run('mkdir', ['-p', bin]);
    await writeFile(
      join(bin, 'aws'),
      `#!/usr/bin/env bash\nexec "${join(pythonToolsBin(), 'python')}" "${join(REPO_ROOT, 'infra/tests/support/aws_cli_stand_in.py')}" "$@"\n`,
    );
    await chmod(join(bin, 'aws'), 0o755);
    config = join(dir, 'deploy.env');
    await writeFile(config, SETTINGS);
  }, 60_000);

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await moto?.reset();
    await moto?.setTiming({ transition_seconds: 0.2, pending_seconds: 0.05 });
    stateDir = await mkdtemp(join(dir, 'stand-in-'));
    artifacts = join(stateDir, 'artifacts.env');
  });

  const env = () => ({
    ...process.env,
    ...(moto?.awsEnv() ?? {}),
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    STAND_IN_DIR: stateDir,
  });

  /** What package.sh pushes (and the registry stack replicates): one image per service, in `regions`. */
  const pushImages = async (regions: readonly string[]): Promise<Record<string, string>> => {
    const digests: Record<string, string> = {};
    for (const region of regions) {
      const ecr = new ECRClient({ region });
      for (const service of SERVICES) {
        const repositoryName = `ghost-ha/${service}`;
        await ecr.send(new CreateRepositoryCommand({ repositoryName }));
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: {
            mediaType: 'application/vnd.docker.container.image.v1+json',
            size: 1,
            digest: `sha256:${createHash('sha256').update(service).digest('hex')}`,
          },
          layers: [],
        });
        const { image } = await ecr.send(
          new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' }),
        );
        const digest = image?.imageId?.imageDigest ?? '';
        expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        // Replication keeps the digest: the same bytes in each region.
        if (digests[service]) expect(digest).toBe(digests[service]);
        digests[service] = digest;
      }
      ecr.destroy();
    }
    const variable = (service: string) => `${service.toUpperCase().replaceAll('-', '_')}_IMAGE`;
    await writeFile(
      artifacts,
      [
        ...SERVICES.map((service) => `${variable(service)}=ghost-ha/${service}@${digests[service]}`),
        `REGISTRIES="${ACCOUNT}.dkr.ecr.${PRIMARY}.amazonaws.com ${ACCOUNT}.dkr.ecr.${SECONDARY}.amazonaws.com"`,
        'ARTIFACT_BUCKET=artifacts',
        'DELETE_ALL_POSTS_KEY=functions/delete-all-posts-1.zip',
        'RESTORE_POSTS_KEY=functions/restore-posts-1.zip',
        '',
      ].join('\n'),
    );
    return digests;
  };

  const deploy = async (...args: string[]) =>
    run('bash', [join(REPO_ROOT, 'scripts/deploy.sh'), ...args, '--config', config, '--artifacts', artifacts], {
      env: env(),
      cwd: REPO_ROOT,
      timeout: 400_000,
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? -1,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );

  const events = async (): Promise<StandInEvent[]> => {
    const text = await readFile(join(stateDir, 'state.json'), 'utf8').catch(() => '{"events": []}');
    return (JSON.parse(text) as { events: StandInEvent[] }).events;
  };

  const calls = async (): Promise<RecordedCall[]> =>
    (await readFile(join(stateDir, 'calls.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as RecordedCall);

  const appDeployments = (all: StandInEvent[]) =>
    all.filter((e) => e.event === 'deployed' && e.stack === 'ghost-ha-app');

  it('`deploy.sh all` completes with Ghost started once, after its user and lease row exist, images resolved in both regions; later deployments follow the writer, never a mismatching --active', async () => {
    const digests = await pushImages([PRIMARY, SECONDARY]);
    const outcome = await deploy('all');
    expect(outcome.stderr).not.toContain('rolled back');
    expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
    const happened = await events();
    expect(happened.filter((e) => e.event === 'rolled-back')).toEqual([]);
    const started = happened.filter((e) => e.event === 'ghost-started');
    expect(started.map((e) => e.region)).toEqual([PRIMARY]);
    const startedAt = happened.findIndex((e) => e.event === 'ghost-started');
    const userAt = happened.findIndex((e) => e.event === 'user-created');
    const leaseAt = happened.findIndex((e) => e.event === 'lease-row' && e.name === 'ghost-ha:ghost');
    expect(userAt).toBeGreaterThanOrEqual(0);
    expect(leaseAt).toBeGreaterThan(userAt);
    expect(startedAt).toBeGreaterThan(leaseAt);
    // The app stacks came up with no Ghost task before the user existed.
    const beforeUser = appDeployments(happened.slice(0, userAt));
    expect(beforeUser.map((e) => `${e.region}:${e.parameters?.DesiredCount}`)).toEqual([
      `${PRIMARY}:0`,
      `${SECONDARY}:0`,
    ]);
    // Each region's task names its own registry's digests, and they were found there.
    for (const region of [PRIMARY, SECONDARY]) {
      const apps = appDeployments(happened).filter((e) => e.region === region);
      expect(apps.length).toBeGreaterThan(0);
      for (const app of apps) {
        expect(app.parameters?.GhostImage).toBe(
          `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/ghost-ha/ghost@${digests.ghost}`,
        );
        expect(app.parameters?.HealthSidecarImage).toBe(
          `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/ghost-ha/health-sidecar@${digests['health-sidecar']}`,
        );
        expect(app.parameters?.CacheInvalidatorImage).toBe(
          `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/ghost-ha/cache-invalidator@${digests['cache-invalidator']}`,
        );
      }
      expect(outcome.stderr).toContain(`3 image(s) found in ${region}'s registry`);
    }
    // The writer was read (no global database yet: a first deployment).
    const made = await calls();
    expect(made[0]).toMatchObject({ service: 'rds', operation: 'DescribeGlobalClusters', region: SECONDARY });
    // Every call is one AWS's models accept.
    const reports = await validateAwsInputs(made);
    expect(made.filter((_, i) => reports[i] !== undefined).map((c, i) => `${c.operation}: ${reports[i]}`)).toEqual([]);

    // Deployed again (an update): Ghost neither stopped nor started again, the user left alone.
    const again = await deploy('all');
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    const afterUpdate = (await events()).slice(happened.length);
    expect(afterUpdate.filter((e) => e.event !== 'deployed')).toEqual([]);
    expect(appDeployments(afterUpdate).map((e) => `${e.region}:${e.parameters?.DesiredCount}`)).toEqual([
      `${PRIMARY}:1`,
      `${SECONDARY}:0`,
      `${PRIMARY}:1`,
      `${SECONDARY}:0`,
    ]);
    expect((await calls()).slice(made.length).filter((c) => c.service === 'rds-data')).toEqual([]);

    // The active region is read, not remembered: a mismatching --active is refused, and after a
    // switchover nobody told the deployment about, it follows the writer.
    const before = (await events()).length;

    const mismatch = await deploy('edge', '--active', 'secondary');
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(
      `--active secondary, but the global database ghost-ha-global writes in the primary (${PRIMARY})`,
    );
    expect((await events()).length).toBe(before);

    // A planned failover moved the writer; the deployment was told nothing.
    const rds = new RDSClient({ region: SECONDARY });
    const { DBClusters = [] } = await rds.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: 'ghost-ha-secondary' }),
    );
    await rds.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: 'ghost-ha-global',
        TargetDbClusterIdentifier: DBClusters[0]?.DBClusterArn ?? '',
      }),
    );
    await waitFor(
      async () => {
        const { GlobalClusters = [] } = await rds.send(
          new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: 'ghost-ha-global' }),
        );
        const writer = GlobalClusters[0]?.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;
        return writer?.split(':')[3] === SECONDARY && !GlobalClusters[0]?.FailoverState ? true : undefined;
      },
      { what: 'the switchover to finish', timeoutMs: 30_000 },
    );
    rds.destroy();

    // The switch tool moved Ghost with ecs:UpdateService (the stacks' DesiredCount untouched).
    const statePath = join(stateDir, 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { services: Record<string, number> };
    state.services = { [PRIMARY]: 0, [SECONDARY]: 1 };
    await writeFile(statePath, JSON.stringify(state));
    const rdsDataBefore = (await calls()).filter((c) => c.service === 'rds-data').length;

    // A routine deployment afterwards, told nothing: it follows the writer and stops nothing.
    const followed = await deploy('all');
    expect(followed.code, followed.stderr.slice(-3000)).toBe(0);
    expect(followed.stderr).toContain(`read from ghost-ha-global's writer: the secondary (${SECONDARY})`);
    const after = (await events()).slice(before);
    expect(after.find((e) => e.stack === 'ghost-ha-edge')?.parameters?.ActiveRegion).toBe('secondary');
    expect(appDeployments(after).map((e) => `${e.region}:${e.parameters?.DesiredCount}`)).toEqual([
      `${PRIMARY}:0`,
      `${SECONDARY}:1`,
      `${PRIMARY}:0`,
      `${SECONDARY}:1`,
    ]);
    expect(after.filter((e) => e.event !== 'deployed')).toEqual([]);
    expect((await calls()).filter((c) => c.service === 'rds-data')).toHaveLength(rdsDataBefore);

    const stale = await deploy('edge', '--active', 'primary');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('would stop the live Ghost');
  }, 600_000);

  it("stops before the secondary's app stack when its registry does not hold the digests (replication missing)", async () => {
    await pushImages([PRIMARY]);
    const outcome = await deploy('all');
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(new RegExp(`ghost-ha/ghost@sha256:[0-9a-f]{64}: not found in ${SECONDARY}`));
    expect(outcome.stderr).toContain(`--registry <account>.dkr.ecr.${SECONDARY}.amazonaws.com`);
    const happened = await events();
    expect(appDeployments(happened).map((e) => e.region)).toEqual([PRIMARY]);
  }, 600_000);
});
