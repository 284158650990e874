import { GhostAdminClient } from '@ghost-ha/core';
import { chooseProbes } from './chooseProbes.js';
import { firstLineOf } from './firstLineOf.js';
import type { GoNoGoReport } from './GoNoGoReport.js';
import { formatFinding, type PreflightFinding, verdictOf } from './preflight/PreflightFinding.js';
import { compareSmoke, type SmokePage, smokeSite } from './smokeSite.js';
import type { SiteCopy, UpgradeSite } from './UpgradeSite.js';

export interface RehearsalOptions {
  readonly site: UpgradeSite;
  readonly from: string;
  readonly to: string;
  /** The target's image (on AWS pinned by digest), recorded in the report the upgrade checks. */
  readonly image: string;
  readonly preflight: readonly PreflightFinding[];
  /** How long the target may take to migrate and boot on the copy. */
  readonly bootTimeoutMs: number;
  readonly now?: () => number;
  readonly progress?: (line: string) => void;
}

/**
 * The rehearsal: on a go from preflight, a copy of production (database and content), the target
 * booted on it with no traffic and its migrations timed, the same smoke test on production and on
 * the copy, their differences; then the rollback drill on the copy (put back, the running release
 * booted, smoke-tested), timed. Production is only read. The copy is removed whatever happened.
 */
export async function rehearseUpgrade(options: RehearsalOptions): Promise<GoNoGoReport> {
  const now = options.now ?? Date.now;
  const progress = options.progress ?? (() => undefined);
  const startedAt = new Date(now()).toISOString();
  const base = { from: options.from, to: options.to, image: options.image, startedAt, preflight: options.preflight };
  const fatal = options.preflight.filter((finding) => finding.level === 'fatal');
  if (verdictOf(options.preflight) === 'no-go') {
    return {
      ...base,
      verdict: 'no-go',
      reasons: fatal.map((finding) => `preflight: ${formatFinding(finding).replace(/^FATAL\s+/, '')}`),
      finishedAt: new Date(now()).toISOString(),
    };
  }
  const production = new GhostAdminClient({ url: options.site.url, adminApiKey: options.site.adminApiKey });
  const probes = await chooseProbes(production);
  progress(`Smoke test of production ${options.site.url}`);
  const before = await smokeSite(options.site.url, probes, production);
  const label = `rehearsal-${options.to.replaceAll('.', '-')}-${now()}`;
  let copy: SiteCopy | undefined;
  let bootMs: number | undefined;
  let migrationsBefore: number | undefined;
  let migrationsAfter: number | undefined;
  let after: SmokePage[] = [];
  let rollbackMs: number | undefined;
  let rollbackDifferences: string[] = [];
  let failure: string | undefined;
  let copyRemoved = false;
  /** What was being done when it failed, for the report's reason. */
  let phase = 'copying production';
  try {
    progress(`Copying production's database and content to ${label}`);
    copy = await options.site.copy(label);
    migrationsBefore = await copy.migrationCount();
    phase = `booting Ghost ${options.to} on the copy`;
    progress(`Booting Ghost ${options.to} on the copy (its migrations run now)`);
    const bootStarted = now();
    const { url } = await copy.boot(options.to, options.bootTimeoutMs);
    bootMs = now() - bootStarted;
    migrationsAfter = await copy.migrationCount();
    phase = 'the smoke test of the copy';
    progress(`Smoke test of the copy ${url}`);
    after = await smokeSite(url, probes, new GhostAdminClient({ url, adminApiKey: options.site.adminApiKey }));
    phase = `the rollback drill (Ghost ${options.from} on the copy put back)`;
    progress(`Rollback drill: the copy put back, Ghost ${options.from} booted on it`);
    const rollbackStarted = now();
    const rolledBack = await copy.restoreAndBoot(options.from, options.bootTimeoutMs);
    rollbackMs = now() - rollbackStarted;
    const restored = new GhostAdminClient({ url: rolledBack.url, adminApiKey: options.site.adminApiKey });
    rollbackDifferences = compareSmoke(before, await smokeSite(rolledBack.url, probes, restored)).map(
      (difference) => `after the rollback drill: ${difference}`,
    );
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    if (copy && migrationsAfter === undefined) migrationsAfter = await copy.migrationCount().catch(() => undefined);
  } finally {
    if (copy) {
      progress(`Removing the copy ${label}`);
      copyRemoved = await copy.remove().then(
        () => true,
        () => false,
      );
    }
  }
  const differences = failure ? [] : [...compareSmoke(before, after), ...rollbackDifferences];
  const reasons = [
    ...(failure ? [`${phase} failed: ${firstLineOf(failure)}`] : []),
    ...differences.map((difference) => `smoke test: ${difference}`),
  ];
  return {
    ...base,
    verdict: reasons.length ? 'no-go' : 'go',
    reasons,
    finishedAt: new Date(now()).toISOString(),
    rehearsal: {
      copyMs: copy?.copyMs ?? 0,
      ...(bootMs !== undefined ? { bootMs } : {}),
      ...(migrationsBefore !== undefined ? { migrationsBefore } : {}),
      ...(migrationsAfter !== undefined ? { migrationsAfter } : {}),
      ...(rollbackMs !== undefined ? { rollbackMs } : {}),
      smoke: after,
      differences,
      ...(failure ? { failure } : {}),
      copyRemoved,
      copyLabel: label,
    },
  };
}
