import { formatFinding, type PreflightFinding, type Verdict } from './preflight/PreflightFinding.js';
import type { SmokePage } from './smokeSite.js';

/** What the rehearsal found: the decision an operator takes the upgrade on, saved and printed. */
export interface GoNoGoReport {
  readonly from: string;
  readonly to: string;
  /**
   * The image the target was booted from on the copy (on AWS pinned by digest): the upgrade runs
   * only that image, so a go for one build is not taken for another of the same version.
   */
  readonly image: string;
  readonly verdict: Verdict;
  /** Why, in one line each (empty for a go). */
  readonly reasons: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly preflight: readonly PreflightFinding[];
  /** Absent when preflight was already a no-go: nothing was copied or booted. */
  readonly rehearsal?: {
    readonly copyMs: number;
    /** From starting the target on the copy to its Admin API answering: its migrations and boot. */
    readonly bootMs?: number;
    readonly migrationsBefore?: number;
    readonly migrationsAfter?: number;
    /** The rollback drill on the copy: database and content put back, the running release booted. */
    readonly rollbackMs?: number;
    readonly smoke: readonly SmokePage[];
    readonly differences: readonly string[];
    /** What failed, e.g. Ghost exiting on a migration. */
    readonly failure?: string;
    /** The copy was removed afterwards (false: remove it by hand, the report names it). */
    readonly copyRemoved: boolean;
    readonly copyLabel: string;
  };
}

/** The report as the operator reads it at the end of the command. */
export function formatReport(report: GoNoGoReport): string {
  const lines = [
    `Rehearsal of Ghost ${report.from} → ${report.to}: ${report.verdict.toUpperCase()}`,
    `  image: ${report.image}`,
  ];
  for (const reason of report.reasons) lines.push(`  because: ${reason}`);
  lines.push('Preflight:');
  for (const finding of report.preflight) lines.push(`  ${formatFinding(finding)}`);
  const rehearsal = report.rehearsal;
  if (!rehearsal) {
    lines.push('Rehearsal: not run (preflight is a no-go); nothing was copied or changed.');
    return lines.join('\n');
  }
  lines.push(`Rehearsal on copy ${rehearsal.copyLabel}:`);
  lines.push(`  copy made in ${seconds(rehearsal.copyMs)}`);
  if (rehearsal.bootMs !== undefined) {
    lines.push(
      `  Ghost ${report.to} booted in ${seconds(rehearsal.bootMs)}, migrations ${rehearsal.migrationsBefore ?? '?'} → ${rehearsal.migrationsAfter ?? '?'}`,
    );
  }
  if (rehearsal.rollbackMs !== undefined) {
    lines.push(
      `  rollback drill: database and content put back, Ghost ${report.from} answering in ${seconds(rehearsal.rollbackMs)}`,
    );
  }
  if (rehearsal.failure) {
    lines.push(
      `  failed after migrations ${rehearsal.migrationsBefore ?? '?'} → ${rehearsal.migrationsAfter ?? '?'}: ${rehearsal.failure}`,
    );
  }
  for (const page of rehearsal.smoke) {
    lines.push(
      `  ${page.name.padEnd(18)} ${String(page.status).padEnd(4)} ${String(page.ms).padStart(5)} ms  ${page.path}`,
    );
  }
  lines.push(rehearsal.differences.length ? '  differences from production:' : '  no differences from production');
  for (const difference of rehearsal.differences) lines.push(`    ${difference}`);
  lines.push(rehearsal.copyRemoved ? '  copy removed' : `  COPY NOT REMOVED: delete ${rehearsal.copyLabel} by hand`);
  return lines.join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
