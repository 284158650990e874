// @module-tag integration
// The upgrade of Ghost from the compatibility release to the pinned one and its rollback on real releases (named by versions.json,
// not by GHOST_VERSION: the test runs both), on MariaDB with a seeded site: two upgrades at once,
// a migration failing during the upgrade (rolled back), the upgrade itself, the rollback command.
// Readers reach the site through CloudFront's origin group as edge.yaml configures it (emulated),
// with a mirror in moto's S3 holding the pages they read: none of them sees a 5xx meanwhile.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GhostAdminClient } from '@ghost-ha/core';
import {
  type LocalUpgradeSite,
  MariaDbServer,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  OriginGroupEmulator,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpgradeLockedError, UpgradeRefusedError } from '../src/errors.js';
import { applyUpgrade, rollBack, type UpgradeOutcome } from '../src/upgrade/applyUpgrade.js';
import { chooseProbes } from '../src/upgrade/chooseProbes.js';
import {
  type ContentSnapshot,
  compareSnapshots,
  contentSnapshot,
  formatComparison,
} from '../src/upgrade/contentSnapshot.js';
import type { GoNoGoReport } from '../src/upgrade/GoNoGoReport.js';
import { runPreflight } from '../src/upgrade/preflight/runPreflight.js';
import { rehearseUpgrade } from '../src/upgrade/rehearseUpgrade.js';
import {
  FROM,
  mirrorPages,
  type ProductionSite,
  preflightInput,
  startProduction,
  TO,
  TO_IMAGE,
  upgradeSiteOf,
} from './support/upgradeTestSite.js';

const BOOT_TIMEOUT_MS = 420_000;

let mariadb: MariaDbServer;
let moto: MotoServer;
let s3: S3Client;
let edge: OriginGroupEmulator;
/** The pages readers read during the upgrade, all of them in the mirror. */
let readerPaths: string[] = [];
let production: ProductionSite;
let site: LocalUpgradeSite;
let report: GoNoGoReport;
let original: ContentSnapshot;

const log = (line: string) => process.stdout.write(`  ${line}\n`);

beforeAll(async () => {
  [mariadb, moto] = await Promise.all([MariaDbServer.start(), MotoServer.start()]);
  production = await startProduction(mariadb);
  site = upgradeSiteOf(mariadb, production);
  original = await contentSnapshot(production.admin);
  report = await rehearseUpgrade({
    site,
    from: FROM,
    to: TO,
    image: TO_IMAGE,
    preflight: await runPreflight(await preflightInput(mariadb, production)),
    bootTimeoutMs: BOOT_TIMEOUT_MS,
  });
  expect(report.verdict).toBe('go');
  // The mirror as the cache-invalidator keeps it (key = the edge's MirrorPrefix + the path): the
  // pages readers read, as Ghost serves them now.
  s3 = new S3Client({
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    forcePathStyle: true,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'mirror' }));
  const probes = await chooseProbes(production.admin);
  readerPaths = ['/', probes.postPath, probes.tagPath, '/rss/', '/sitemap.xml'];
  await mirrorPages(s3, 'mirror', site.url, readerPaths);
  edge = await OriginGroupEmulator.start({
    primary: { id: 'alb', url: site.url },
    secondary: { id: 'mirror', client: s3, bucket: 'mirror' },
    // The template's connection and read timeouts at a 15th of the time.
    timeScale: 1 / 15,
  });
}, 900_000);

afterAll(async () => {
  await edge?.close();
  s3?.destroy();
  await site?.destroy();
  await Promise.all([mariadb?.destroy(), moto?.destroy()]);
});

/**
 * Readers through the edge while `work` runs: one request every 100 ms over the mirrored pages,
 * each bounded and past the cache; returns every status seen and which member answered.
 */
async function readersDuring<T>(work: Promise<T>): Promise<{ result: T; statuses: number[]; servedBy: string[] }> {
  let done = false;
  const statuses: number[] = [];
  const from = edge.routed.length;
  const reading = (async () => {
    for (let i = 0; !done && i < 20_000; i++) {
      const path = readerPaths[i % readerPaths.length] ?? '/';
      // Every request misses the edge's cache (as once its TTL has passed): it reaches the origins.
      edge.invalidate(['/*']);
      const answer = await fetch(`${edge.url}${path}`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
      statuses.push(answer?.status ?? 0);
      await answer?.arrayBuffer().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    return { result: await work, statuses, servedBy: edge.routed.slice(from).map((r) => r.servedBy) };
  } finally {
    done = true;
    await reading;
  }
}

function printReaders(statuses: readonly number[], servedBy: readonly string[]): void {
  const count = (list: readonly (number | string)[]) => {
    const tally = new Map<string, number>();
    for (const value of list) tally.set(String(value), (tally.get(String(value)) ?? 0) + 1);
    return [...tally].map(([k, n]) => `${k}×${n}`).join(', ');
  };
  log(`readers: ${statuses.length} requests, statuses ${count(statuses)}; answered by ${count(servedBy)}`);
}

async function runningVersion(): Promise<string> {
  const admin = new GhostAdminClient({ url: site.url, adminApiKey: site.adminApiKey });
  return String(((await admin.site()) as { version?: unknown }).version);
}

function printOutcome(outcome: UpgradeOutcome): void {
  const t = outcome.timings;
  const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  log(
    `${outcome.result}: stop ${seconds(t.stopMs)}, backup point ${seconds(t.backupMs)}, boot ${seconds(t.bootMs)}, rollback ${seconds(t.rollbackMs)}, writers down ${seconds(t.writersDownMs)}`,
  );
  if (outcome.failure) log(`failure: ${outcome.failure.split('\n').slice(0, 3).join(' / ')}`);
  process.stdout.write(`${formatComparison(outcome.comparison)}\n`);
}

describe(`upgrade of Ghost ${FROM} → ${TO} and rollback`, () => {
  it('refuses without a go for the same upgrade and image, and a second upgrade while one holds the lock; nothing changes', async () => {
    await expect(
      applyUpgrade({
        target: site,
        from: FROM,
        to: TO,
        image: TO_IMAGE,
        report: { ...report, verdict: 'no-go', reasons: ['theme'] },
      }),
    ).rejects.toThrow(UpgradeRefusedError);
    await expect(applyUpgrade({ target: site, from: FROM, to: '6.64.0', image: TO_IMAGE, report })).rejects.toThrow(
      UpgradeRefusedError,
    );
    // A go is for one build: another image of the same version (a rebuilt tag) is not covered by it.
    await expect(
      applyUpgrade({ target: site, from: FROM, to: TO, image: `${TO_IMAGE}-rebuilt`, report }),
    ).rejects.toThrow(/rehearse this image first/);
    const release = await site.lock();
    try {
      await expect(applyUpgrade({ target: site, from: FROM, to: TO, image: TO_IMAGE, report })).rejects.toThrow(
        UpgradeLockedError,
      );
    } finally {
      await release();
    }
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
  }, 120_000);

  it('starts the running release again when the backup point fails, and changes nothing', async () => {
    const migrations = await site.migrationCount();
    const failingBackup = {
      url: site.url,
      adminApiKey: site.adminApiKey,
      lock: () => site.lock(),
      stopGhost: () => site.stopGhost(),
      startGhost: (version: string, timeoutMs: number) => site.startGhost(version, timeoutMs),
      backup: () => Promise.reject(new Error('no space left for the content backup')),
      restore: () => Promise.reject(new Error('never called')),
    };
    await expect(
      applyUpgrade({ target: failingBackup, from: FROM, to: TO, image: TO_IMAGE, report, progress: log }),
    ).rejects.toThrow(/The backup point failed \(no space left for the content backup\); Ghost 5.130.6 runs again/);
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBe(migrations);
  }, 300_000);

  it('rolls back to the backup point when a migration fails during the upgrade: the site answers as before', async () => {
    const migrations = await site.migrationCount();
    site.tamperBeforeNextBoot = async (database) => {
      await mariadb.rootQuery(`CREATE TABLE \`${database}\`.gifts (id VARCHAR(24) PRIMARY KEY, note TEXT)`);
    };
    const {
      result: outcome,
      statuses,
      servedBy,
    } = await readersDuring(applyUpgrade({ target: site, from: FROM, to: TO, image: TO_IMAGE, report, progress: log }));
    printOutcome(outcome);
    printReaders(statuses, servedBy);
    expect(statuses.filter((status) => status >= 500 || status === 0)).toEqual([]);
    expect(servedBy).toContain('mirror');
    expect(outcome.result).toBe('rolled-back');
    expect(outcome.failure).toContain('expires_at');
    expect(outcome.timings.rollbackMs).toBeGreaterThan(0);
    expect(outcome.comparison.differences).toEqual([]);
    expect(outcome.smokeDifferences).toEqual([]);
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBe(migrations);
  }, 900_000);

  it('upgrades: every post, page, tag, member, tier and newsletter equal before and after; rollback restores the old release', async () => {
    const before = await site.migrationCount();
    const {
      result: outcome,
      statuses,
      servedBy,
    } = await readersDuring(applyUpgrade({ target: site, from: FROM, to: TO, image: TO_IMAGE, report, progress: log }));
    printOutcome(outcome);
    printReaders(statuses, servedBy);
    expect(statuses.filter((status) => status >= 500 || status === 0)).toEqual([]);
    expect(servedBy).toContain('mirror');
    expect(outcome.failure).toBeUndefined();
    expect(outcome.result).toBe('upgraded');
    expect(outcome.comparison.differences).toEqual([]);
    for (const counts of Object.values(outcome.comparison.counts)) expect(counts.equal).toBe(counts.before);
    expect(outcome.comparison.counts.posts.before).toBeGreaterThanOrEqual(7);
    expect(await runningVersion()).toBe(TO.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBeGreaterThan(before);

    const rollback = await readersDuring(rollBack(site, outcome.backupPoint, BOOT_TIMEOUT_MS));
    const rollbackMs = rollback.result;
    printReaders(rollback.statuses, rollback.servedBy);
    expect(rollback.statuses.filter((status) => status >= 500 || status === 0)).toEqual([]);
    log(`rollback to ${FROM} as a command: ${(rollbackMs / 1000).toFixed(1)} s`);
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBe(before);
    const restored = compareSnapshots(original, await contentSnapshot(production.admin));
    process.stdout.write(`After the rollback, against the original site:\n${formatComparison(restored)}\n`);
    expect(restored.differences).toEqual([]);
  }, 900_000);
});
