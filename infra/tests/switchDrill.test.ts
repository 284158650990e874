// @module-tag integration
import { validateAwsInputs } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';
import { serviceAndOperation } from '../src/switch/AwsCall.js';
import type { Pacing } from '../src/switch/poll.js';
import { runSwitch } from '../src/switch/runSwitch.js';
import { checkMirror } from '../src/switch/steps/checkMirror.js';
import {
  alarmActions,
  CLUSTERS,
  deleteMirrorObjects,
  distributionConfig,
  globalStatus,
  globalWriter,
  PRIMARY,
  replicationIn,
  SECONDARY,
  serviceCounts,
  synchronization,
  waitForFirstCopy,
} from './support/deploymentInMoto.js';
import { isAllowed } from './support/iamPolicy.js';
import { iamRequestsOf, operatorParameters, operatorStatements } from './support/operatorRequests.js';
import { useSwitchTestBed } from './support/switchTestBed.js';

// The extended moto keeps a new replication ENABLING for 0.3 s and replicates in 1 s rounds: the
// waits really poll. The scale turns the longest documented wait (4 h for a first copy) into 72 s.
const DRILL: Pacing = {
  intervalMs: 50,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutScale: 0.005,
};

/**
 * The full drill on a stand-in: moto extended (testbed/moto) with Aurora global switchover and
 * failover, EFS replication on both sides, file-system protection and regional outages. Every
 * call the tool sends is recorded and validated against AWS's API models afterwards.
 */
describe.each([
  ['both ALBs in the origin group', false],
  ['active ALB and a static mirror in the origin group', true],
])('failover drill on the extended moto (%s)', (shape, mirror) => {
  const bed = useSwitchTestBed({
    extended: true,
    deployment: { replication: true, mirror, lagMs: [120, 340, 95] },
  });

  /** Runs the tool as the scripts do; prints its output (the plan, each step's expected duration). */
  async function drill(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runSwitch([...argv, '--apply', ...bed.deploymentArgs()], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      pacing: DRILL,
      clients: bed.clients,
    });
    const rto = out.match(/^RTO on paper: .*$/m)?.[0] ?? 'no RTO line';
    const applied = out
      .split('\n')
      .filter((line) => (/^\d+\/\d+ \S+: /.test(line) && !/: {3}/.test(line)) || /^All \d+ steps done/.test(line));
    process.stdout.write(`\n=== ${argv.join(' ')} (${shape}) ===\n${applied.join('\n')}\n${rto}\n${err}`);
    return { code, out, err };
  }

  /** One writer, replication from the active region, desired 1/0, CloudFront and alarms on the active one. */
  async function expectActive(active: string, replication = true) {
    const standby = active === PRIMARY ? SECONDARY : PRIMARY;
    const activeFs = bed.deployment.fileSystems.get(active) ?? '';
    const standbyFs = bed.deployment.fileSystems.get(standby) ?? '';
    expect(await globalWriter()).toEqual({
      writer: CLUSTERS[active as keyof typeof CLUSTERS],
      members: [CLUSTERS[PRIMARY], CLUSTERS[SECONDARY]].sort(),
    });
    const direction = replication ? `${active} -> ${standby}` : 'none';
    expect(await replicationIn(active, activeFs)).toBe(direction);
    expect(await replicationIn(standby, standbyFs)).toBe(direction);
    expect(await serviceCounts(active)).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(standby)).toEqual({ desired: 0, running: 0 });
    expect(await serviceCounts(active, 'invalidator')).toEqual({ desired: 1, running: 1 });
    expect(await serviceCounts(standby, 'invalidator')).toEqual({ desired: 0, running: 0 });
    const config = await distributionConfig(bed.deployment.distributionId);
    expect(config.OriginGroups?.Items?.[0]?.Members?.Items?.map((m) => m.OriginId)).toEqual(
      mirror ? [`alb-${active}`, `mirror-${PRIMARY}`] : [`alb-${active}`, `alb-${standby}`],
    );
    expect(config.CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(`alb-${active}`);
    expect(await alarmActions(active)).toEqual([true, true, true, true, true]);
    expect(await alarmActions(standby)).toEqual([false, false, false, false, false]);
  }

  /** Waits for the stand-in's rebuild of the old primary (a few seconds; minutes to hours on AWS). */
  async function waitUntilConnected() {
    for (let i = 0; i < 300; i++) {
      if (Object.values(await synchronization()).every((s) => s === 'connected')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the old primary was not rebuilt: ${JSON.stringify(await synchronization())}`);
  }

  async function expectEverySentCallValid() {
    const results = await validateAwsInputs(
      bed.sent.map((call) => {
        const [service, operation] = serviceAndOperation(call.operation);
        return { service, operation, input: JSON.parse(JSON.stringify(call.input)) };
      }),
    );
    expect(results.flatMap((r, i) => (r ? [`${bed.sent[i]?.operation}: ${r}`] : []))).toEqual([]);
    // ... and allowed by the operator role (infra/cloudformation/operator.yaml).
    const role = operatorStatements(operatorParameters(bed.deployment.distributionId));
    const scope = { account: '123456789012', fileSystemName: 'ghost-ha-content' };
    const refused = bed.sent.flatMap((call) =>
      iamRequestsOf(call, scope).filter((request) => !isAllowed(role, request)),
    );
    expect(refused).toEqual([]);
  }

  it.runIf(mirror)(
    'a planned failover refuses a target mirror without its 404 page, before anything changes; --accept-mirror goes on',
    async () => {
      await deleteMirrorObjects(SECONDARY, ['site/.ghost-404.html']);
      const { code, err } = await drill('failover');
      expect(code).toBe(1);
      expect(err).toMatch(
        /Step 2\/12 check-mirror failed .*The mirror in eu-central-1 is not ready: site\/\.ghost-404\.html is missing \(2 objects, newest 20\d\d-/,
      );
      expect(err).toMatch(
        /What to do next: Build the mirror in eu-central-1 first .*MIRROR_BUCKET=ghost-ha-mirror-123456789012-eu-central-1/,
      );
      await expectActive(PRIMARY);
      // The operator who knows the mirror is being rebuilt may switch anyway.
      const accepted = await drill('failover', '--accept-mirror');
      expect(accepted.code).toBe(0);
      expect(accepted.out).toMatch(
        /2\/12 check-mirror: ok, WARNING The mirror in eu-central-1 is not ready: site\/\.ghost-404\.html is missing .*; going on \(--accept-mirror\)/,
      );
      await expectActive(SECONDARY);
      await expectEverySentCallValid();
    },
  );

  it.runIf(mirror)('a mirror whose newest object is older than 48 h is a warning, not a refusal', async () => {
    const to = {
      region: SECONDARY,
      clusterArn: `arn:aws:rds:${SECONDARY}:123456789012:cluster:${CLUSTERS[SECONDARY]}`,
      fileSystemId: bed.deployment.fileSystems.get(SECONDARY) ?? '',
      ecsCluster: 'ghost-ha',
      ecsService: 'ghost-ha-ghost',
      invalidatorService: 'ghost-ha-cache-invalidator',
      originId: `alb-${SECONDARY}`,
    };
    const later = { ...DRILL, now: () => Date.now() + 49 * 3_600_000 };
    const found = await checkMirror('ghost-ha', to, 'planned').run({
      clients: bed.clients,
      pacing: later,
      progress: () => {},
      facts: {},
    });
    expect(found).toMatch(
      /^WARNING the mirror's newest object is older than 48 h \(3 objects, newest 20\d\d-\S+ \(49\.0 h ago\)\)/,
    );
    await expectEverySentCallValid();
  });

  it.runIf(mirror)('a disaster failover onto an empty mirror warns and goes on', async () => {
    await deleteMirrorObjects(SECONDARY, ['site/index.html', 'site/.ghost-404.html', 'site/a-post/index.html']);
    await bed.moto.startOutage(PRIMARY);
    const failover = await drill('failover', '--mode', 'disaster');
    expect(failover.code).toBe(0);
    expect(failover.out).toMatch(
      /4\/\d+ check-mirror: ok, WARNING The mirror in eu-central-1 is not ready: the mirror is empty \(0 objects, newest none\); going on \(disaster\)/,
    );
    await bed.moto.endOutage(PRIMARY);
    await expectEverySentCallValid();
  });

  it('planned failover, then planned failback', async () => {
    await expectActive(PRIMARY);
    expect(await bed.moto.writeHeartbeat(PRIMARY)).toBeDefined();
    const failover = await drill('failover');
    expect(failover.out).toMatch(
      /read-rpo: newest heartbeat in eu-central-1: task-eu-west-1 at \S+ \(.*\); Ghost stopped in eu-west-1 \d+\.\d s after it: a switchover loses nothing/,
    );
    expect(failover.err).toBe('');
    expect(failover.code).toBe(0);
    expect(failover.out).toContain('eu-west-1 is now the pilot light');
    // The target's images: the sidecar's and the invalidator's digests found there; Docker Hub's Ghost named.
    expect(failover.out).toMatch(
      /1\/12 preflight: ok, .*; 2 ECR image\(s\) found in eu-central-1's registry; not checked \(not in ECR, .*\): ghost:5\.130\.6/,
    );
    expect(failover.out).toMatch(
      mirror
        ? /2\/12 check-mirror: ok, 3 objects, newest 20\d\d-\S+ \(0\.0 h ago\)/
        : /2\/12 check-mirror: ok, no bucket ghost-ha-mirror-123456789012-eu-central-1 in eu-central-1/,
    );
    // The switchover takes a while in the stand-in too: the step waited for it.
    expect(failover.out).toMatch(
      /promote-database: status switching-over, writer \S+ghost-primary, failover switching-over/,
    );
    await expectActive(SECONDARY);

    const failback = await drill('failback');
    expect(failback.err).toBe('');
    expect(failback.code).toBe(0);
    expect(failback.out).toMatch(/bring-content-back: ok, status ENABLED, last replicated 20\d\d-/);
    expect(failback.out).toMatch(/restore-pilot-light: ok, status (ENABLING|ENABLED)/);
    await expectActive(PRIMARY);
    await expectEverySentCallValid();
  });

  it('disaster failover while the primary is partly down (writes still arriving), the primary returns, salvage, planned failback, planned failover again', async () => {
    const primaryFs = bed.deployment.fileSystems.get(PRIMARY) ?? '';
    const secondaryFs = bed.deployment.fileSystems.get(SECONDARY) ?? '';
    // An upload before the outage reaches the secondary with the next replication round.
    expect(await bed.moto.writeFile(primaryFs, 'before-outage.jpg')).toBe(true);
    // The primary's sidecar writes its heartbeat row; Aurora replicates it to the secondary.
    const lastReplicatedHeartbeat = await bed.moto.writeHeartbeat(PRIMARY);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await bed.moto.startOutage(PRIMARY);
    // Partly down: its API does not answer, but the Ghost there still takes an upload, which EFS
    // no longer replicates, and its sidecar a heartbeat that no longer reaches the secondary.
    expect(await bed.moto.writeFile(primaryFs, 'during-outage.jpg')).toBe(true);
    expect(await bed.moto.writeHeartbeat(PRIMARY)).toBeDefined();
    // Taken once the stand-in has the outage: its start is no later than this.
    const outageStarted = Date.now();
    // EFS replicates nothing while the source region is down: the reading must show that.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const failover = await drill('failover', '--mode', 'disaster');
    expect(failover.err).toBe('');
    expect(failover.code).toBe(0);
    // The expected data loss is named before anything changes.
    expect(failover.out).toMatch(
      /measure-data-loss: ok, Aurora: AuroraGlobalDBRPOLag no datapoints, AuroraGlobalDBReplicationLag max 340 ms over the last 15 min .*expect to lose the writes of the last 0\.3 s/,
    );
    expect(failover.out).toMatch(/EFS: last replicated 20\d\d-\S+ \(\d+\.\d min ago\): images, themes and files/);
    const lastReplicated = failover.out.match(/EFS: last replicated (\S+) /)?.[1] ?? '';
    // The RPO as the promoted database shows it: the newest heartbeat that reached it is the one
    // written before the outage, printed beside Aurora's lag and EFS's last replication.
    const rpo = failover.out.match(
      /read-rpo: RPO newest heartbeat in eu-central-1: task-eu-west-1 at (\S+) \(.*\): writes eu-west-1 took after it are lost; Aurora lag read before: 0\.3 s; EFS last replicated 20\d\d-/,
    );
    expect(new Date(rpo?.[1] ?? 0).getTime()).toBe(new Date(lastReplicatedHeartbeat ?? 1).getTime());
    expect(new Date(lastReplicated).getTime()).toBeLessThanOrEqual(outageStarted);
    expect(failover.out).toMatch(/stop-ghost-eu-west-1: (failed \(.*\)|no answer within \d+ ms); going on/);
    // Writes stop going to the old region right after the reading, before the database moves.
    const sent = bed.sent.map((call) => call.operation);
    expect(sent.indexOf('cloudfront:UpdateDistribution')).toBeGreaterThan(-1);
    expect(sent.indexOf('cloudfront:UpdateDistribution')).toBeLessThan(sent.indexOf('rds:FailoverGlobalCluster'));
    const steps = [...failover.out.matchAll(/^\d+\/\d+ (\S+): /gm)].map((m) => m[1]);
    expect([...new Set(steps)].slice(0, 3)).toEqual(['preflight', 'measure-data-loss', 'route-writes-away']);
    expect(failover.out).toMatch(/fence-eu-west-1: failed \(.*\); going on\. eu-west-1 does not answer yet/);
    expect(await globalWriter()).toEqual({
      writer: CLUSTERS[SECONDARY],
      members: ['ghost-primary', 'ghost-secondary'],
    });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    expect(await replicationIn(SECONDARY, bed.deployment.fileSystems.get(SECONDARY) ?? '')).toBe('none');
    expect((await distributionConfig(bed.deployment.distributionId)).CacheBehaviors?.Items?.[0]?.TargetOriginId).toBe(
      `alb-${SECONDARY}`,
    );

    // The primary region returns as the outage left it: Ghost still wanted there, its side of the
    // old replication still in place.
    await bed.moto.endOutage(PRIMARY);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
    expect(await replicationIn(PRIMARY, bed.deployment.fileSystems.get(PRIMARY) ?? '')).toBe(
      `${PRIMARY} -> ${SECONDARY}`,
    );

    // When the old region returns: the same command again fences it.
    const fence = await drill('failover', '--mode', 'disaster');
    expect(fence.code).toBe(0);
    expect(fence.out).toMatch(/fence-eu-west-1: ok, desired 0, running 0/);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 0, running: 0 });
    expect(await alarmActions(PRIMARY)).toEqual([false, false, false, false, false]);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    // Its file system is read-only until salvaged: a late write there is refused.
    expect(fence.out).toMatch(/fence-eu-west-1: ok, .*fs-\S+ read-only until salvaged \(protection DISABLED\)/);
    expect(await bed.moto.writeFile(primaryFs, 'after-fence.jpg')).toBe(false);
    expect(await bed.moto.filesOf(secondaryFs)).toEqual(['before-outage.jpg']);

    // Aurora is rebuilding the old primary as a secondary (pending-resync): the failback is refused
    // by the preflight, before Ghost stops in eu-central-1.
    expect(await synchronization()).toMatchObject({ 'ghost-primary': 'pending-resync' });
    const early = await drill('failback');
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/Step 1\/\d+ preflight failed .*ghost-primary is pending-resync, not connected/);
    expect(early.out).not.toMatch(/^\d+\/\d+ stop-ghost-eu-central-1/m);
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    await waitUntilConnected();

    // The planned failback first keeps what exists only in the primary (the upload the outage cut
    // off, Aurora's point-of-failure snapshot), then brings the content back over it.
    const failback = await drill('failback');
    expect(failback.err).toBe('');
    expect(failback.code).toBe(0);
    const salvage = failback.out.match(
      /salvage-eu-west-1: ok, backup job \S+ of fs-\S+ COMPLETED: recovery point (arn:aws:backup:eu-west-1:\S+);/,
    );
    expect(salvage?.[1]).toBeDefined();
    expect(await bed.moto.recoveryPointFiles(salvage?.[1] ?? '')).toEqual(['before-outage.jpg', 'during-outage.jpg']);
    expect(failback.out).toMatch(
      /Aurora snapshot rds:unplanned-global-failover-ghost-primary-\S+ copied to ghost-ha-salvage-unplanned-global-failover-ghost-primary-\S+/,
    );
    const order = [...failback.out.matchAll(/^\d+\/\d+ (\S+): ok/gm)].map((m) => m[1]);
    expect(order.indexOf('salvage-eu-west-1')).toBeLessThan(order.indexOf('bring-content-back'));
    await expectActive(PRIMARY);
    // The primary's file system now holds the content written in the secondary (the salvaged upload
    // lives on in the recovery point).
    expect(await bed.moto.filesOf(primaryFs)).toEqual(['before-outage.jpg']);

    // And the way out again: a planned failover, once the pilot light's first copy has finished.
    await waitForFirstCopy(SECONDARY, secondaryFs);
    const again = await drill('failover');
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/salvage-eu-central-1: ok, fs-\S+ holds nothing of its own/);
    await expectActive(SECONDARY);
    await expectEverySentCallValid();
  });

  it('a region that stalls instead of refusing: each request to it is bounded and the disaster failover completes', async () => {
    // Without the request timeout every request to the stalled region would wait the stand-in's 20 s
    // (times the SDK's three attempts) before failing: four of them would take four minutes.
    bed.replaceClients({ requestTimeoutMs: 1_000 });
    await bed.moto.startOutage(PRIMARY, { hang: true });
    const started = Date.now();
    const failover = await drill('failover', '--mode', 'disaster');
    const seconds = (Date.now() - started) / 1000;
    expect(failover.code).toBe(0);
    // The stop towards the stalled region is bounded and runs beside the promotion.
    expect(failover.out).toMatch(/stop-ghost-eu-west-1: (failed \(.+\)|no answer within \d+ ms); going on/);
    expect(failover.out).toMatch(/fence-eu-west-1: failed \(.+\); going on/);
    expect(seconds).toBeLessThan(60);
    expect(await globalWriter()).toEqual({
      writer: CLUSTERS[SECONDARY],
      members: ['ghost-primary', 'ghost-secondary'],
    });
    expect(await serviceCounts(SECONDARY)).toEqual({ desired: 1, running: 1 });
    await bed.moto.endOutage(PRIMARY);
  });

  it('a planned failover refuses to start when the secondary file system receives no replication', async () => {
    await bed.recreateDeployment({ mirror });
    const { code, err } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(/Step 1\/12 preflight failed .* receives no replication/);
    expect(err).toMatch(/What to do next: Nothing was changed/);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });

  it('without the repair step the failback would be refused: a file system takes part in one replication only', async () => {
    await bed.moto.startOutage(PRIMARY);
    expect((await drill('failover', '--mode', 'disaster')).code).toBe(0);
    await bed.moto.endOutage(PRIMARY);
    const { EFSClient, CreateReplicationConfigurationCommand, UpdateFileSystemProtectionCommand } = await import(
      '@aws-sdk/client-efs'
    );
    // EFS refuses to change the protection of a file system in a replication (its leftover side) ...
    await expect(
      new EFSClient({ region: PRIMARY }).send(
        new UpdateFileSystemProtectionCommand({
          FileSystemId: bed.deployment.fileSystems.get(PRIMARY),
          ReplicationOverwriteProtection: 'DISABLED',
        }),
      ),
    ).rejects.toThrow(/already included in a replication configuration/);
    // ... and a replication into it.
    await expect(
      new EFSClient({ region: SECONDARY }).send(
        new CreateReplicationConfigurationCommand({
          SourceFileSystemId: bed.deployment.fileSystems.get(SECONDARY),
          Destinations: [{ Region: PRIMARY, FileSystemId: bed.deployment.fileSystems.get(PRIMARY) }],
        }),
      ),
    ).rejects.toThrow(/already a source or destination of a replication configuration/);
  });
  it('a headless secondary is refused by the preflight, before Ghost stops', async () => {
    await bed.recreateDeployment({ replication: true, mirror, headlessSecondary: true });
    const { code, err, out } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(/Step 1\/12 preflight failed .*ghost-secondary has no DB instance/);
    expect(out).not.toMatch(/^\d+\/\d+ stop-ghost-eu-west-1/m);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });

  it("a digest missing from the target's registry is refused by the preflight, before Ghost stops", async () => {
    await bed.recreateDeployment({ replication: true, mirror, imageMissingIn: SECONDARY });
    const { code, err, out } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(
      /Step 1\/12 preflight failed .*123456789012\.dkr\.ecr\.eu-central-1\.amazonaws\.com\/ghost-ha\/cache-invalidator@sha256:[0-9a-f]{64} \(not found in eu-central-1 .*scripts\/package\.sh --registry <account>\.dkr\.ecr\.eu-central-1\.amazonaws\.com\) or let ECR replication into eu-central-1 finish/,
    );
    expect(out).not.toMatch(/^\d+\/\d+ stop-ghost-eu-west-1/m);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
    await expectEverySentCallValid();
  });

  it("an image in the source region's registry is refused by the preflight: an outage there would stop the start", async () => {
    await bed.recreateDeployment({ replication: true, mirror, imageFromOtherRegionIn: SECONDARY });
    const { code, err } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(
      /Step 1\/12 preflight failed .*123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/ghost-ha\/health-sidecar@sha256:[0-9a-f]{64} \(in eu-west-1's registry, not eu-central-1's/,
    );
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });

  it('a secondary on another engine version is refused by the preflight, before Ghost stops', async () => {
    await bed.recreateDeployment({ replication: true, mirror, secondaryEngineVersion: '8.0.mysql_aurora.3.07.1' });
    const { code, err } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(
      /Step 1\/12 preflight failed .*runs 8\.0\.mysql_aurora\.3\.07\.1, eu-west-1's 8\.0\.mysql_aurora\.3\.08\.2/,
    );
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });

  it('a switchover Aurora cancels (a member stopped answering) fails the promote step at once', async () => {
    await bed.moto.setTiming({ transition_seconds: 4 });
    const running = drill('failover');
    for (let i = 0; i < 400 && (await globalStatus()) !== 'switching-over'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const cancelledAt = Date.now();
    await bed.moto.startOutage(PRIMARY);
    const { code, err } = await running;
    expect(code).toBe(1);
    expect(err).toMatch(/promote-database failed .*Aurora is cancelling the switchover/);
    // Well before the step's own timeout (20 min scaled: 6 s).
    expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    await bed.moto.endOutage(PRIMARY);
    expect((await globalWriter()).writer).toBe(CLUSTERS[PRIMARY]);
  });
  it('a planned failover refuses a paused replication before Ghost stops', async () => {
    await bed.moto.setReplicationStatus(bed.deployment.fileSystems.get(PRIMARY) ?? '', 'PAUSED');
    const { code, err } = await drill('failover');
    expect(code).toBe(1);
    expect(err).toMatch(/Step 1\/12 preflight failed .*The replication into fs-\S+ is (PAUSING|PAUSED), not ENABLED/);
    expect(await serviceCounts(PRIMARY)).toEqual({ desired: 1, running: 1 });
  });
  it('reprotect after a disaster failover: the replica comes back without moving Ghost, then a planned failback', async () => {
    await bed.moto.startOutage(PRIMARY);
    expect((await drill('failover', '--mode', 'disaster')).code).toBe(0);
    await bed.moto.endOutage(PRIMARY);
    expect((await drill('failover', '--mode', 'disaster')).code).toBe(0);
    expect(await replicationIn(SECONDARY, bed.deployment.fileSystems.get(SECONDARY) ?? '')).toBe('none');

    // The fence made the old primary's file system read-only; reprotect backs it up before the
    // replication overwrites it.
    const reprotect = await drill('reprotect');
    expect(reprotect.err).toBe('');
    expect(reprotect.code).toBe(0);
    expect(reprotect.out).toMatch(
      /^Reprotect: replicate eu-central-1's content to eu-west-1; Ghost stays in eu-central-1/m,
    );
    expect(reprotect.out).toMatch(/salvage-eu-west-1: ok, backup job \S+ of fs-\S+ COMPLETED: recovery point arn:/);
    await expectActive(SECONDARY);
    // Run again: nothing left to do.
    expect((await drill('reprotect')).code).toBe(0);

    await waitUntilConnected();
    const failback = await drill('failback');
    expect(failback.err).toBe('');
    expect(failback.code).toBe(0);
    await expectActive(PRIMARY);
    await expectEverySentCallValid();
  });
});
