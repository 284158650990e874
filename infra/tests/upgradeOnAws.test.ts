// @module-tag integration
// `upgrade.sh apply` and `upgrade.sh rollback` against the stand-ins: every AWS call goes to the
// extended moto (a deployment as the stacks leave it, the app stack's load balancer and rules
// included); what AWS would do for the calls that move Ghost (the service's task, the cluster's
// snapshot and its restore) is played on a real Ghost on MariaDB, upgraded from the compatibility
// release to the pinned one. Each call is then validated against botocore's models.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GhostAdminClient } from '@ghost-ha/core';
import {
  type LocalUpgradeSite,
  loadEdgeSettings,
  MariaDbServer,
  OriginGroupEmulator,
  REPO_ROOT,
  validateAwsInputs,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsCall } from '../src/switch/AwsCall.js';
import { serviceAndOperation } from '../src/switch/AwsCall.js';
import { siteNames } from '../src/switch/Deployment.js';
import type { Pacing } from '../src/switch/poll.js';
import { chooseProbes } from '../src/upgrade/chooseProbes.js';
import { type ContentSnapshot, compareSnapshots, contentSnapshot } from '../src/upgrade/contentSnapshot.js';
import type { GoNoGoReport } from '../src/upgrade/GoNoGoReport.js';
import { runUpgrade } from '../src/upgrade/runUpgrade.js';
import { saveReport } from '../src/upgrade/saveReport.js';
import { ACCOUNT, CLUSTERS, ORIGIN_TOKEN, PRIMARY, PROJECT } from './support/deploymentInMoto.js';
import { isAllowed } from './support/iamPolicy.js';
import { ListenerRulesProxy } from './support/listenerRulesProxy.js';
import { MotoRunsGhost } from './support/motoRunsGhost.js';
import { iamRequestsOf, operatorParameters, operatorStatements } from './support/operatorRequests.js';
import { useSwitchTestBed } from './support/switchTestBed.js';
import {
  FROM,
  mirrorPages,
  type ProductionSite,
  startProduction,
  TO,
  upgradeSiteOf,
} from './support/upgradeTestSite.js';

const PINNED = `ghost:${TO}@sha256:${'5e'.repeat(32)}`;
const REPORT_BUCKET = `${PROJECT}-backups-${ACCOUNT}-${PRIMARY}`;
const BOOT_TIMEOUT_MS = 420_000;
const names = siteNames(PROJECT, PRIMARY);
// Real time: the waits are for a real Ghost; moto's own answers come at once.
const PACING: Pacing = {
  intervalMs: 100,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutScale: 1,
};

let mariadb: MariaDbServer;
let production: ProductionSite;
let site: LocalUpgradeSite;
let original: ContentSnapshot;
let runner: MotoRunsGhost;
let sent: AwsCall[] = [];
/** What a writer got while Ghost was stopped: the load balancer's maintenance rule, as moto holds it. */
let maintenanceSeen: string[] = [];
const log = (line: string) => process.stdout.write(`  ${line}\n`);

beforeAll(async () => {
  mariadb = await MariaDbServer.start();
  production = await startProduction(mariadb);
  site = upgradeSiteOf(mariadb, production);
  original = await contentSnapshot(production.admin);
}, 600_000);

afterAll(async () => {
  runner?.close();
  await site?.destroy();
  await mariadb?.destroy();
});

describe(`upgrade.sh apply and rollback on the stand-ins (Ghost ${FROM} → ${TO})`, () => {
  const bed = useSwitchTestBed({ extended: true });

  beforeEach(async () => {
    const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({ Bucket: REPORT_BUCKET, CreateBucketConfiguration: { LocationConstraint: PRIMARY } }),
    );
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: REPORT_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    s3.destroy();
    maintenanceSeen = [];
    runner?.close();
    runner = await MotoRunsGhost.start({
      site,
      running: FROM,
      moto: bed.moto,
      region: PRIMARY,
      cluster: names.ecsCluster,
      service: names.ecsService,
      bootTimeoutMs: BOOT_TIMEOUT_MS,
      whileStopped: async () => {
        maintenanceSeen.push(...(await maintenanceBodies()));
      },
    });
    sent = [];
    bed.replaceClients({
      s3ForcePathStyle: true,
      onCall: (call) => {
        sent.push(call);
        runner.observe(call);
      },
    });
  });

  /** The site's and the deployment's options of apply and rollback. */
  const siteArgs = () => [
    '--url',
    site.url,
    '--region',
    PRIMARY,
    '--cluster-id',
    CLUSTERS[PRIMARY],
    '--file-system-id',
    bed.deployment.fileSystems.get(PRIMARY) ?? '',
    '--report-bucket',
    REPORT_BUCKET,
  ];

  /** Runs upgrade.sh's command with the deployment's identifiers; prints its output. */
  async function upgrade(
    command: 'apply' | 'rollback',
    extra: string[],
    env: Record<string, string | undefined> = { GHOST_ADMIN_API_KEY: site.adminApiKey },
  ) {
    let out = '';
    let err = '';
    const code = await runUpgrade([command, ...extra, ...siteArgs()], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      clients: bed.clients,
      pacing: PACING,
      env,
    });
    await runner.settled();
    process.stdout.write(`--- upgrade.sh ${command} → exit ${code}\n${out}${err}`);
    log(`what AWS did: ${runner.log.join('; ')}`);
    return { code, out, err };
  }

  /** A go report of the rehearsal for `image`, stored as the rehearsal stores it; returns its s3:// address. */
  async function goReport(image: string, at = new Date()): Promise<string> {
    const report: GoNoGoReport = {
      from: FROM,
      to: TO,
      image,
      verdict: 'go',
      reasons: [],
      startedAt: at.toISOString(),
      finishedAt: at.toISOString(),
      preflight: [],
      rehearsal: { copyMs: 5_000, bootMs: 30_000, smoke: [], differences: [], copyRemoved: true, copyLabel: 'copy' },
    };
    const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
    const key = await saveReport(s3, REPORT_BUCKET, report);
    s3.destroy();
    return `s3://${REPORT_BUCKET}/${key}`;
  }

  const applyArgs = (report: string, image = PINNED) => [
    '--from',
    FROM,
    '--to',
    TO,
    '--image',
    image,
    '--report',
    report,
  ];

  it('refuses without the Admin API key, with a go for another build or an old one, or while another upgrade holds the lock: nothing changes', async () => {
    const report = await goReport(PINNED);
    const noKey = await upgrade('apply', applyArgs(report), {});
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/GHOST_ADMIN_API_KEY is not set/);

    const other = await upgrade('apply', applyArgs(report, `ghost:${TO}@sha256:${'77'.repeat(32)}`));
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/go was for image .*rehearse this image first/);

    // A go of 8 days ago proved the migrations on other data.
    const old = await upgrade('apply', applyArgs(await goReport(PINNED, new Date(Date.now() - 8 * 86_400_000))));
    expect(old.code).toBe(1);
    expect(old.err).toMatch(/more than 7 days ago: rehearse again/);

    // Another operator's upgrade holds the lock (written as apply writes it).
    const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({
        Bucket: REPORT_BUCKET,
        Key: `upgrade-lock/${PROJECT}.json`,
        Body: '{"holder":"alice (upgrade.sh apply)"}',
        IfNoneMatch: '*',
      }),
    );
    s3.destroy();
    const locked = await upgrade('apply', applyArgs(report));
    expect(locked.code).toBe(1);
    expect(locked.err).toMatch(/holds s3:\/\/.*upgrade-lock\/ghost-ha\.json \(\{"holder":"alice/);

    expect(sent.filter((c) => !c.readOnly).map((c) => c.operation)).toEqual(['s3:PutObject']);
    expect(runner.log).toEqual([]);
    expect(await runningVersion()).toBe(majorMinor(FROM));
  }, 120_000);

  /** Clients whose requests give up after 1 s (the SDK retries twice), with `stalled` calls not played on Ghost: AWS never carried them out. */
  function clientsWithStalled(stalled: (call: AwsCall) => boolean): void {
    bed.replaceClients({
      s3ForcePathStyle: true,
      requestTimeoutMs: 1_000,
      onCall: (call) => {
        sent.push(call);
        if (!stalled(call)) runner.observe(call);
      },
    });
  }

  it('ECS stalls (its reads answer, UpdateService never does): apply ends in bounded time, Ghost 5 still serves writers (no maintenance answer left), the lock is released', async () => {
    const report = await goReport(PINNED);
    clientsWithStalled((call) => call.operation === 'ecs:UpdateService');
    await bed.moto.stall('ecs:UpdateService');
    const started = Date.now();
    let result: Awaited<ReturnType<typeof upgrade>>;
    try {
      result = await upgrade('apply', applyArgs(report));
    } finally {
      await bed.moto.endStalls();
    }
    const seconds = (Date.now() - started) / 1000;
    log(`apply against a stalled ECS: exit ${result.code} after ${seconds.toFixed(1)} s`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Stopping Ghost failed \(.+\); Ghost 5\.130\.6 runs again, nothing was changed/);
    expect(result.out).toMatch(/still runs .*nothing to start/);
    expect(seconds).toBeLessThan(90);
    // What writers get is Ghost again, not the maintenance answer; nothing was snapshotted or migrated.
    expect(await maintenanceBodies()).toEqual([]);
    expect(await runningVersion()).toBe(majorMinor(FROM));
    expect(sent.map((c) => c.operation)).not.toContain('rds:CreateDBClusterSnapshot');
    const service = await ghostService();
    expect(service.desiredCount).toBe(1);
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    expect(await lockState()).toBe('free');
  }, 300_000);

  it("S3 stalls the lock's removal after a successful upgrade: apply still reports the upgrade (exit 0) and says how to remove the lock; removed that way, rollback runs", async () => {
    const report = await goReport(PINNED);
    clientsWithStalled(() => false);
    await bed.moto.stall('s3:DELETE');
    let applied: Awaited<ReturnType<typeof upgrade>>;
    try {
      applied = await upgrade('apply', applyArgs(report));
    } finally {
      await bed.moto.endStalls();
    }
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(/Upgraded: Ghost .* runs/);
    const removal = /Once S3 answers: (aws s3api delete-object --bucket (\S+) --key (\S+))/.exec(applied.out);
    expect(removal?.[1]).toBeDefined();
    expect(await runningVersion()).toBe(majorMinor(TO));
    expect(await lockState()).toBe('held');
    const refused = await upgrade('rollback', ['--backup-point', backupLabelOf(applied.out)]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Another upgrade or rollback of ghost-ha holds/);
    // The operator runs the printed command; then the rollback goes through.
    const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
    await s3.send(new DeleteObjectCommand({ Bucket: removal?.[2], Key: removal?.[3] }));
    s3.destroy();
    const rolledBack = await upgrade('rollback', ['--backup-point', backupLabelOf(applied.out)]);
    expect(rolledBack.code).toBe(0);
    expect(await runningVersion()).toBe(majorMinor(FROM));
    expect(await lockState()).toBe('free');
  }, 900_000);

  it("ECS's reads stall for 8 s as the target boots: apply waits them out and the upgrade goes through (a read AWS did not answer is no reason to roll back)", async () => {
    const report = await goReport(PINNED);
    let stallEnds: Promise<void> | undefined;
    bed.replaceClients({
      s3ForcePathStyle: true,
      requestTimeoutMs: 1_000,
      onCall: (call) => {
        sent.push(call);
        runner.observe(call);
        const targetStarts =
          call.operation === 'ecs:UpdateService' && call.input.desiredCount === 1 && call.input.taskDefinition;
        if (targetStarts && !stallEnds) {
          stallEnds = bed.moto
            .stall('ecs:DescribeServices')
            .then(() => new Promise((resolve) => setTimeout(resolve, 8_000)))
            .then(() => bed.moto.endStalls());
        }
      },
    });
    let applied: Awaited<ReturnType<typeof upgrade>>;
    try {
      applied = await upgrade('apply', applyArgs(report));
    } finally {
      await stallEnds;
      await bed.moto.endStalls();
    }
    expect(stallEnds).toBeDefined();
    expect(applied.out).toMatch(/no answer \(TimeoutError/);
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(/Upgraded: Ghost .* runs/);
    expect(await runningVersion()).toBe(majorMinor(TO));
    expect(sent.map((c) => c.operation)).not.toContain('rds:RestoreDBClusterFromSnapshot');
    // Back to the release the other tests start from.
    expect((await upgrade('rollback', ['--backup-point', backupLabelOf(applied.out)])).code).toBe(0);
    expect(await runningVersion()).toBe(majorMinor(FROM));
  }, 900_000);

  it('a failing migration whose automatic rollback fails too (RDS stalls the restore): the error names the rollback command, writers keep the maintenance answer, and that command, once RDS answers, brings Ghost 5 back with every record', async () => {
    site.tamperBeforeNextBoot = async (database) => {
      await mariadb.rootQuery(`CREATE TABLE \`${database}\`.gifts (id VARCHAR(24) PRIMARY KEY, note TEXT)`);
    };
    let stalling = true;
    clientsWithStalled((call) => stalling && call.operation === 'rds:RestoreDBClusterFromSnapshot');
    await bed.moto.stall('rds:RestoreDBClusterFromSnapshot');
    let failed: Awaited<ReturnType<typeof upgrade>>;
    try {
      failed = await upgrade('apply', applyArgs(await goReport(PINNED)));
    } finally {
      await bed.moto.endStalls();
      stalling = false;
    }
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/ROLLBACK FAILED: The upgrade failed \(.+\) and so did its rollback/);
    const command = /upgrade\.sh rollback --backup-point (before-[0-9a-z-]+)/.exec(failed.err);
    expect(command?.[1]).toBeDefined();
    // Ghost is down; writers read why, readers are on the mirror; the command does not hold the lock.
    expect((await maintenanceBodies()).length).toBe(1);
    expect(await lockState()).toBe('free');

    const rolledBack = await upgrade('rollback', ['--backup-point', command?.[1] ?? '']);
    expect(rolledBack.code).toBe(0);
    expect(await runningVersion()).toBe(majorMinor(FROM));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
    await expectSiteLeftClean(await ghostService());
  }, 900_000);

  it('scripts/upgrade.sh apply does not stop half way at SIGTERM: it goes on (here: to the backup point once the task has stopped)', async () => {
    const report = await goReport(PINNED);
    const child = spawn(
      'bash',
      [join(REPO_ROOT, 'scripts', 'upgrade.sh'), 'apply', ...applyArgs(report), ...siteArgs()],
      { env: { ...process.env, GHOST_ADMIN_API_KEY: site.adminApiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // Nothing here stops the task (no one plays ECS for this process): the command waits for it.
      await until(
        () => /running 1, pending 0/.test(out),
        60_000,
        () => out,
      );
      child.kill('SIGTERM');
      await until(
        () => /SIGTERM received; apply does not stop half way/.test(out),
        10_000,
        () => out,
      );
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(child.exitCode).toBeNull();
      // ECS reports the task stopped: the command carries on with the backup point.
      await bed.moto.reportServiceTasks(PRIMARY, names.ecsCluster, names.ecsService, { running: 0 });
      await until(
        () => /Cluster snapshot ghost-ha-before-/.test(out),
        30_000,
        () => out,
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
      process.stdout.write(`--- upgrade.sh apply, SIGTERM while Ghost stops\n${out}`);
      // The site as this test found it: Ghost was never touched (nothing played the calls).
      await bed.moto.reportServiceTasks(PRIMARY, names.ecsCluster, names.ecsService, { running: 1 });
    }
  }, 180_000);

  it('a migration failing during the upgrade: rolled back to the snapshot on a restored cluster, the site answers as before; through the edge, readers always get a page and writers the maintenance answer', async () => {
    site.tamperBeforeNextBoot = async (database) => {
      await mariadb.rootQuery(`CREATE TABLE \`${database}\`.gifts (id VARCHAR(24) PRIMARY KEY, note TEXT)`);
    };
    const edge = await edgeInFrontOfMoto();
    const started = Date.now();
    let traffic: Traffic;
    let result: Awaited<ReturnType<typeof upgrade>>;
    try {
      ({ result, traffic } = await edge.during(upgrade('apply', applyArgs(await goReport(PINNED)))));
    } finally {
      await edge.close();
    }
    log(`apply with a failing migration, rollback included: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    log(`readers: ${tally(traffic.readers)}; writers: ${tally(traffic.writers.map((w) => w.status))}`);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/ROLLED BACK to Ghost/);
    expect(runner.log.some((line) => line.startsWith(`start ${TO} failed`))).toBe(true);
    expect(await runningVersion()).toBe(majorMinor(FROM));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
    // Readers: a page every time (Ghost's, or the mirror's while Ghost is down). Writers: Ghost's own
    // answer, or the 503 that says why, never another 5xx.
    expect(traffic.readers.filter((status) => status !== 200)).toEqual([]);
    const maintenance = traffic.writers.filter((w) => w.status === 503 && /being upgraded/.test(w.body));
    expect(maintenance.length).toBeGreaterThan(0);
    expect(traffic.writers.filter((w) => w.status >= 500 && !maintenance.includes(w))).toEqual([]);

    const operations = sent.map((c) => c.operation);
    expect(operations).toContain('rds:RestoreDBClusterFromSnapshot');
    const service = await ghostService();
    const task = await taskDefinition(service.taskDefinition);
    // The previous release, on the restored cluster (its endpoint, for Ghost and for the sidecar's lease).
    expect(task.image).toBe(`ghost:${FROM}`);
    expect(task.hosts).toHaveLength(2);
    expect(task.hosts.every((host) => host.includes(`${PROJECT}-rollback-`))).toBe(true);
    await expectSiteLeftClean(service);
  }, 900_000);

  /**
   * CloudFront as edge.yaml configures it (emulated), in front of the moto load balancer's listener
   * (its rules as moto holds them, forwarding to Ghost while a task runs) and a mirror of the pages
   * readers read, as the cache-invalidator keeps it.
   */
  async function edgeInFrontOfMoto() {
    const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({ Bucket: 'mirror', CreateBucketConfiguration: { LocationConstraint: PRIMARY } }),
    );
    const probes = await chooseProbes(production.admin);
    const readerPaths = ['/', probes.postPath, probes.tagPath, '/rss/'];
    await mirrorPages(s3, 'mirror', site.url, readerPaths);
    const listener = await ListenerRulesProxy.start({
      region: PRIMARY,
      listenerArn: await listenerArn(),
      targetOf: (group) =>
        group === bed.deployment.targetGroups.get(PRIMARY) && runner.running ? site.url : undefined,
    });
    const edge = await OriginGroupEmulator.start({
      primary: { id: 'alb', url: listener.url },
      secondary: { id: 'mirror', client: s3, bucket: 'mirror' },
      settings: loadEdgeSettings({ parameters: { OriginVerifyToken: ORIGIN_TOKEN } }),
      timeScale: 1 / 15,
    });
    return {
      /** Readers (a page every 100 ms) and a writer (a sign-in every 500 ms) through the edge while `work` runs. */
      async during<T>(work: Promise<T>): Promise<{ result: T; traffic: Traffic }> {
        let done = false;
        const traffic: Traffic = { readers: [], writers: [] };
        const reading = (async () => {
          for (let i = 0; !done && i < 5_000; i++) {
            edge.invalidate(['/*']);
            const answer = await fetch(`${edge.url}${readerPaths[i % readerPaths.length]}`, {
              signal: AbortSignal.timeout(30_000),
            }).catch(() => undefined);
            traffic.readers.push(answer?.status ?? 0);
            await answer?.arrayBuffer().catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })();
        const writing = (async () => {
          for (let i = 0; !done && i < 1_000; i++) {
            const answer = await fetch(`${edge.url}/ghost/api/admin/session/`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', origin: site.url },
              body: JSON.stringify({ username: 'nobody@example.com', password: 'not-the-password' }),
              signal: AbortSignal.timeout(30_000),
            }).catch(() => undefined);
            traffic.writers.push({ status: answer?.status ?? 0, body: (await answer?.text().catch(() => '')) ?? '' });
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        })();
        try {
          return { result: await work, traffic };
        } finally {
          done = true;
          await Promise.all([reading, writing]);
        }
      },
      async close() {
        await edge.close();
        await listener.close();
        s3.destroy();
      },
    };
  }

  it('two upgrades at once: one runs, the other is refused by the lock; then `rollback --backup-point` returns to the previous release with every record', async () => {
    const report = await goReport(PINNED);
    const outcomes = await Promise.all([upgrade('apply', applyArgs(report)), upgrade('apply', applyArgs(report))]);
    const applied = outcomes.find((o) => o.code === 0);
    const refused = outcomes.find((o) => o.code !== 0);
    expect(applied?.out).toMatch(/Upgraded: Ghost .* runs/);
    expect(refused?.code).toBe(1);
    expect(refused?.err).toMatch(/Another upgrade or rollback of ghost-ha holds s3:\/\//);
    expect(await runningVersion()).toBe(majorMinor(TO));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
    const upgraded = await ghostService();
    expect((await taskDefinition(upgraded.taskDefinition)).image).toBe(PINNED);
    await expectSiteLeftClean(upgraded);
    // The order that keeps one writer and a point to return to: maintenance answer, stop, backup point, start.
    const lockWrites = (c: AwsCall) =>
      c.operation === 's3:PutObject' && String(c.input.Key).startsWith('upgrade-lock/');
    expect(sent.filter(lockWrites)).toHaveLength(2);
    const changes = sent.filter((c) => !c.readOnly && !lockWrites(c)).map((c) => c.operation);
    expect(changes.slice(0, 6)).toEqual([
      'elbv2:CreateRule',
      'ecs:UpdateService',
      'rds:CreateDBClusterSnapshot',
      'backup:StartBackupJob',
      's3:PutObject',
      'ecs:RegisterTaskDefinition',
    ]);

    const label = backupLabelOf(applied?.out ?? '');
    expect(label).not.toBe('');
    maintenanceSeen = [];
    const started = Date.now();
    const rolledBack = await upgrade('rollback', ['--backup-point', label]);
    log(`rollback command: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(rolledBack.code).toBe(0);
    expect(await runningVersion()).toBe(majorMinor(FROM));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
    await expectSiteLeftClean(await ghostService());

    const inputs = sent.map((call) => {
      const [service, operation] = serviceAndOperation(call.operation);
      return { service, operation, input: JSON.parse(JSON.stringify(call.input)) };
    });
    const problems = await validateAwsInputs(inputs);
    expect(problems.flatMap((p, i) => (p ? [`${sent[i]?.operation}: ${p}`] : []))).toEqual([]);
    // ... and allowed by the operator role (infra/cloudformation/operator.yaml), nothing more needed.
    const role = operatorStatements(operatorParameters(bed.deployment.distributionId));
    const scope = { account: ACCOUNT, fileSystemName: `${PROJECT}-content` };
    const requests = sent.flatMap((call) => iamRequestsOf(call, scope));
    expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['iam:PassRole', 'rds:AddTagsToResource']));
    expect(requests.filter((request) => !isAllowed(role, request))).toEqual([]);
  }, 1_200_000);

  /** After any outcome: writers were told why while Ghost was down, then no maintenance rule, no lock, the circuit breaker as the template has it. */
  async function expectSiteLeftClean(service: Awaited<ReturnType<typeof ghostService>>): Promise<void> {
    expect(maintenanceSeen.length).toBeGreaterThan(0);
    expect(maintenanceSeen.every((body) => /paused/.test(body))).toBe(true);
    expect(await maintenanceBodies()).toEqual([]);
    expect(service.deploymentConfiguration?.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    expect(await lockState()).toBe('free');
  }
});

/** The backup point an apply printed (`upgrade.sh rollback --backup-point before-…`). */
function backupLabelOf(out: string): string {
  return /--backup-point (before-[0-9a-z-]+)/.exec(out)?.[1] ?? '';
}

/** Whether the upgrade lock object exists in the report bucket. */
async function lockState(): Promise<'held' | 'free'> {
  const s3 = new S3Client({ region: PRIMARY, forcePathStyle: true });
  try {
    await s3.send(new HeadObjectCommand({ Bucket: REPORT_BUCKET, Key: `upgrade-lock/${PROJECT}.json` }));
    return 'held';
  } catch {
    return 'free';
  } finally {
    s3.destroy();
  }
}

async function until(condition: () => boolean, timeoutMs: number, seen: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms; output so far:\n${seen()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

async function runningVersion(): Promise<string> {
  const admin = new GhostAdminClient({ url: site.url, adminApiKey: site.adminApiKey });
  return String(((await admin.site()) as { version?: unknown }).version);
}

async function ghostService() {
  const ecs = new ECSClient({ region: PRIMARY });
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: names.ecsCluster, services: [names.ecsService] }),
  );
  ecs.destroy();
  const service = services[0];
  if (!service) throw new Error('no Ghost service in moto');
  return service;
}

async function taskDefinition(arn: string | undefined): Promise<{ image: string; hosts: string[] }> {
  const ecs = new ECSClient({ region: PRIMARY });
  const { taskDefinition: definition } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  ecs.destroy();
  const containers = definition?.containerDefinitions ?? [];
  return {
    image: containers.find((c) => c.name === 'ghost')?.image ?? '',
    hosts: containers.flatMap((c) =>
      (c.environment ?? []).filter((e) => e.name === 'database__connection__host').map((e) => e.value ?? ''),
    ),
  };
}

interface Traffic {
  readers: number[];
  writers: { status: number; body: string }[];
}

function tally(values: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, n]) => `${value}×${n}`).join(', ');
}

/** The moto load balancer's HTTPS listener in the primary region. */
async function listenerArn(): Promise<string> {
  const elbv2 = new ElasticLoadBalancingV2Client({ region: PRIMARY });
  const { LoadBalancers = [] } = await elbv2.send(new DescribeLoadBalancersCommand({}));
  const { Listeners = [] } = await elbv2.send(
    new DescribeListenersCommand({ LoadBalancerArn: LoadBalancers[0]?.LoadBalancerArn }),
  );
  elbv2.destroy();
  return Listeners[0]?.ListenerArn ?? '';
}

/** The fixed-response bodies of the listener's maintenance rules, as moto holds them. */
async function maintenanceBodies(): Promise<string[]> {
  const elbv2 = new ElasticLoadBalancingV2Client({ region: PRIMARY });
  const { Rules = [] } = await elbv2.send(new DescribeRulesCommand({ ListenerArn: await listenerArn() }));
  elbv2.destroy();
  return Rules.flatMap((r) => r.Actions ?? [])
    .map((a) => a.FixedResponseConfig?.MessageBody ?? '')
    .filter((body) => body.includes('ghost-ha:maintenance'));
}
