// @module-tag integration
// The upgrade of Ghost 5.130.6 → 6.65.0 and its rollback on real releases (named by versions.json,
// not by GHOST_VERSION: the test runs both), on MariaDB with a seeded site: two upgrades at once,
// a migration failing during the upgrade (rolled back), the upgrade itself, the rollback command.
import { GhostAdminClient } from '@ghost-ha/core';
import { LocalUpgradeSite, MariaDbServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpgradeLockedError, UpgradeRefusedError } from '../src/errors.js';
import { applyUpgrade, rollBack, type UpgradeOutcome } from '../src/upgrade/applyUpgrade.js';
import {
  type ContentSnapshot,
  compareSnapshots,
  contentSnapshot,
  formatComparison,
} from '../src/upgrade/contentSnapshot.js';
import type { GoNoGoReport } from '../src/upgrade/GoNoGoReport.js';
import { runPreflight } from '../src/upgrade/preflight/runPreflight.js';
import { rehearseUpgrade } from '../src/upgrade/rehearseUpgrade.js';
import { FROM, type ProductionSite, preflightInput, startProduction, TO } from './support/upgradeTestSite.js';

const BOOT_TIMEOUT_MS = 420_000;

let mariadb: MariaDbServer;
let production: ProductionSite;
let site: LocalUpgradeSite;
let report: GoNoGoReport;
let original: ContentSnapshot;

const log = (line: string) => process.stdout.write(`  ${line}\n`);

beforeAll(async () => {
  mariadb = await MariaDbServer.start();
  production = await startProduction(mariadb);
  site = new LocalUpgradeSite({
    mariadb,
    database: production.database.database,
    contentDir: production.contentDir,
    ghost: production.ghost,
    adminApiKey: production.setUp.adminApiKey,
  });
  original = await contentSnapshot(production.admin);
  report = await rehearseUpgrade({
    site,
    from: FROM,
    to: TO,
    preflight: await runPreflight(await preflightInput(mariadb, production)),
    bootTimeoutMs: BOOT_TIMEOUT_MS,
  });
  expect(report.verdict).toBe('go');
}, 900_000);

afterAll(async () => {
  await site?.destroy();
  await mariadb?.destroy();
});

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
  it('refuses without a go for the same upgrade, and a second upgrade while one holds the lock; nothing changes', async () => {
    await expect(
      applyUpgrade({ target: site, from: FROM, to: TO, report: { ...report, verdict: 'no-go', reasons: ['theme'] } }),
    ).rejects.toThrow(UpgradeRefusedError);
    await expect(applyUpgrade({ target: site, from: FROM, to: '6.64.0', report })).rejects.toThrow(UpgradeRefusedError);
    const release = await site.lock();
    try {
      await expect(applyUpgrade({ target: site, from: FROM, to: TO, report })).rejects.toThrow(UpgradeLockedError);
    } finally {
      await release();
    }
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(compareSnapshots(original, await contentSnapshot(production.admin)).differences).toEqual([]);
  }, 120_000);

  it('rolls back to the backup point when a migration fails during the upgrade: the site answers as before', async () => {
    const migrations = await site.migrationCount();
    site.tamperBeforeNextBoot = async (database) => {
      await mariadb.rootQuery(`CREATE TABLE \`${database}\`.gifts (id VARCHAR(24) PRIMARY KEY, note TEXT)`);
    };
    const outcome = await applyUpgrade({ target: site, from: FROM, to: TO, report, progress: log });
    printOutcome(outcome);
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
    const outcome = await applyUpgrade({ target: site, from: FROM, to: TO, report, progress: log });
    printOutcome(outcome);
    expect(outcome.failure).toBeUndefined();
    expect(outcome.result).toBe('upgraded');
    expect(outcome.comparison.differences).toEqual([]);
    for (const counts of Object.values(outcome.comparison.counts)) expect(counts.equal).toBe(counts.before);
    expect(outcome.comparison.counts.posts.before).toBeGreaterThanOrEqual(7);
    expect(await runningVersion()).toBe(TO.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBeGreaterThan(before);

    const rollbackMs = await rollBack(site, outcome.backupPoint, BOOT_TIMEOUT_MS);
    log(`rollback to ${FROM} as a command: ${(rollbackMs / 1000).toFixed(1)} s`);
    expect(await runningVersion()).toBe(FROM.split('.').slice(0, 2).join('.'));
    expect(await site.migrationCount()).toBe(before);
    const restored = compareSnapshots(original, await contentSnapshot(production.admin));
    process.stdout.write(`After the rollback, against the original site:\n${formatComparison(restored)}\n`);
    expect(restored.differences).toEqual([]);
  }, 900_000);
});
