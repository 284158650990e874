import { GhostAdminClient } from '@ghost-ha/core';
import { UpgradeRefusedError, UpgradeRollbackFailedError } from '../errors.js';
import { chooseProbes } from './chooseProbes.js';
import { type ContentSnapshot, compareSnapshots, contentSnapshot, type SnapshotComparison } from './contentSnapshot.js';
import { firstLineOf } from './firstLineOf.js';
import type { GoNoGoReport } from './GoNoGoReport.js';
import { compareSmoke, smokeSite } from './smokeSite.js';
import type { BackupPoint, UpgradeTarget } from './UpgradeSite.js';

/** A go older than this is refused (UpgradeOptions.maxReportAgeMs). */
export const REPORT_MAX_AGE_MS = 7 * 86_400_000;

export interface UpgradeOptions {
  readonly target: UpgradeTarget;
  readonly from: string;
  readonly to: string;
  /** The target's image: the one the rehearsal's go was for. */
  readonly image: string;
  /** The rehearsal's report: the upgrade runs only after a go for the same upgrade and image. */
  readonly report: GoNoGoReport;
  /**
   * How old the go may be (default 7 days): the rehearsal proved the migrations on the data of its
   * day; weeks later the site holds other data, and a new release of the theme may have come.
   */
  readonly maxReportAgeMs?: number;
  /** The longest the target may take to migrate and boot; default 3× the rehearsal's, at least 10 min. */
  readonly bootTimeoutMs?: number;
  readonly now?: () => number;
  readonly progress?: (line: string) => void;
}

export interface UpgradeOutcome {
  /** upgraded: the target runs; rolled-back: the previous release runs on the backup point. */
  readonly result: 'upgraded' | 'rolled-back';
  readonly backupPoint: BackupPoint;
  /** Why it rolled back. */
  readonly failure?: string;
  /** Every post, page, tag, member, tier and newsletter before against after (or after the rollback). */
  readonly comparison: SnapshotComparison;
  readonly smokeDifferences: readonly string[];
  readonly timings: {
    readonly stopMs: number;
    readonly backupMs: number;
    readonly bootMs?: number;
    readonly rollbackMs?: number;
    /** From stopping Ghost until it answered again (writers' downtime). */
    readonly writersDownMs: number;
  };
}

/**
 * The upgrade: only after a go for the same upgrade, under the upgrade lock. Ghost stopped, a
 * backup point, the target started (its migrations run, with a time limit), the smoke test and
 * every record compared with before. Any failure after the backup point rolls back: the backup
 * point restored and the previous release started, the site answering as before.
 */
export async function applyUpgrade(options: UpgradeOptions): Promise<UpgradeOutcome> {
  const { target, from, to, report } = options;
  const now = options.now ?? Date.now;
  const progress = options.progress ?? (() => undefined);
  if (report.from !== from || report.to !== to) {
    throw new UpgradeRefusedError(`The report is about ${report.from} → ${report.to}, not ${from} → ${to}`);
  }
  if (report.image !== options.image) {
    throw new UpgradeRefusedError(
      `The rehearsal's go was for image ${report.image}, not ${options.image}: rehearse this image first`,
    );
  }
  const age = now() - Date.parse(report.finishedAt);
  const maxAge = options.maxReportAgeMs ?? REPORT_MAX_AGE_MS;
  if (!(age <= maxAge)) {
    throw new UpgradeRefusedError(
      `The rehearsal finished ${report.finishedAt}, more than ${Math.round(maxAge / 86_400_000)} days ago: rehearse again on today's data`,
    );
  }
  if (report.verdict !== 'go') {
    throw new UpgradeRefusedError(`The rehearsal of ${from} → ${to} was a no-go: ${report.reasons.join('; ')}`);
  }
  const bootTimeoutMs = options.bootTimeoutMs ?? Math.max(600_000, 3 * (report.rehearsal?.bootMs ?? 0));
  const release = await target.lock();
  try {
    const admin = new GhostAdminClient({ url: target.url, adminApiKey: target.adminApiKey });
    const probes = await chooseProbes(admin);
    const smokeBefore = await smokeSite(target.url, probes, admin);
    const before = await contentSnapshot(admin);
    progress(`Stopping Ghost ${from}`);
    const stopped = now();
    try {
      await target.stopGhost();
    } catch (error) {
      return await startAgain(target, from, bootTimeoutMs, 'Stopping Ghost', error, progress);
    }
    const stopMs = now() - stopped;
    progress('Taking the backup point');
    let backupPoint: BackupPoint;
    try {
      backupPoint = await target.backup(`before-${to.replaceAll('.', '-')}-${now()}`, from);
    } catch (error) {
      return await startAgain(target, from, bootTimeoutMs, 'The backup point', error, progress);
    }
    progress(
      `Backup point ${backupPoint.label} taken (to return to it: upgrade.sh rollback --backup-point ${backupPoint.label})`,
    );
    let bootMs: number | undefined;
    let failure: string | undefined;
    let after: ContentSnapshot | undefined;
    let smokeDifferences: string[] = [];
    try {
      progress(`Starting Ghost ${to} (its migrations run now, at most ${Math.round(bootTimeoutMs / 1000)} s)`);
      const booting = now();
      await target.startGhost(to, bootTimeoutMs);
      bootMs = now() - booting;
      progress('Smoke test and comparison of every record');
      smokeDifferences = compareSmoke(smokeBefore, await smokeSite(target.url, probes, admin));
      after = await contentSnapshot(admin);
      const comparison = compareSnapshots(before, after);
      if (smokeDifferences.length || comparison.differences.length) {
        failure = [...smokeDifferences, ...comparison.differences].slice(0, 10).join('; ');
      }
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (!failure && after) {
      return {
        result: 'upgraded',
        backupPoint,
        comparison: compareSnapshots(before, after),
        smokeDifferences,
        timings: { stopMs, backupMs: backupPoint.ms, bootMs: bootMs ?? 0, writersDownMs: now() - stopped },
      };
    }
    progress(`Rolling back to ${from}: ${firstLineOf(failure ?? '')}`);
    let rollbackMs: number;
    try {
      rollbackMs = await rollBack(target, backupPoint, bootTimeoutMs, now);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UpgradeRollbackFailedError(
        `The upgrade failed (${firstLineOf(failure ?? '')}) and so did its rollback (${firstLineOf(reason)}). ` +
          `Ghost is not serving writers. Once the cause is fixed: upgrade.sh rollback --backup-point ${backupPoint.label}`,
        { cause: error },
      );
    }
    const restored = await contentSnapshot(admin);
    return {
      result: 'rolled-back',
      backupPoint,
      failure: failure ?? 'unknown',
      comparison: compareSnapshots(before, restored),
      smokeDifferences: compareSmoke(smokeBefore, await smokeSite(target.url, probes, admin)),
      timings: {
        stopMs,
        backupMs: backupPoint.ms,
        ...(bootMs !== undefined ? { bootMs } : {}),
        rollbackMs,
        writersDownMs: now() - stopped,
      },
    };
  } finally {
    await release();
  }
}

/**
 * After a failure before the target started (nothing migrated): the running release serves again
 * and the upgrade stops, or, when starting it fails too, an error that says how to start it by hand.
 */
async function startAgain(
  target: UpgradeTarget,
  from: string,
  bootTimeoutMs: number,
  what: string,
  error: unknown,
  progress: (line: string) => void,
): Promise<never> {
  progress(`${what} failed (${firstLineOf(error)}): starting Ghost ${from} again`);
  try {
    await target.startGhost(from, bootTimeoutMs);
  } catch (startError) {
    throw new UpgradeRollbackFailedError(
      `${what} failed (${firstLineOf(error)}) and so did starting Ghost ${from} again (${firstLineOf(startError)}). ` +
        `Nothing was migrated: the database is as it was. Ghost may not be serving writers. Once the cause is fixed, start Ghost ${from} again: ` +
        (target.howToStartByHand?.() ?? 'start its previous task as it ran'),
      { cause: startError },
    );
  }
  throw new UpgradeRefusedError(
    `${what} failed (${firstLineOf(error)}); Ghost ${from} runs again, nothing was changed`,
    {
      cause: error,
    },
  );
}

/** The rollback: whatever runs stopped, the backup point restored, its release started. Returns its time. */
export async function rollBack(
  target: UpgradeTarget,
  point: BackupPoint,
  bootTimeoutMs: number,
  now: () => number = Date.now,
): Promise<number> {
  const started = now();
  await target.stopGhost();
  await target.restore(point);
  await target.startGhost(point.version, bootTimeoutMs);
  return now() - started;
}
