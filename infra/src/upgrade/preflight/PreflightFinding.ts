/** What a preflight check looked at. */
export type PreflightCheck = 'path' | 'node' | 'theme' | 'space' | 'database';

/**
 * fatal: the upgrade must not go ahead (the report says no-go). error: named in the report, the
 * upgrade may go ahead (Ghost activates a theme with non-fatal errors). warning: worth knowing.
 * ok: the check passed, said so that the report shows what was checked.
 */
export type FindingLevel = 'fatal' | 'error' | 'warning' | 'ok';

export interface PreflightFinding {
  readonly check: PreflightCheck;
  readonly level: FindingLevel;
  /** A code of the check's own (a gscan rule such as GS090-NO-INVALID-CONDITIONAL-ARGUMENTS), if any. */
  readonly code?: string;
  readonly message: string;
  /** Where, for a theme finding: the theme's files. */
  readonly files?: readonly string[];
}

export type Verdict = 'go' | 'no-go';

/** No-go as soon as one finding is fatal. */
export function verdictOf(findings: readonly PreflightFinding[]): Verdict {
  return findings.some((finding) => finding.level === 'fatal') ? 'no-go' : 'go';
}

/** One line per finding: `FATAL theme GS090-...: message (index.hbs)`. */
export function formatFinding(finding: PreflightFinding): string {
  const code = finding.code ? ` ${finding.code}` : '';
  const files = finding.files?.length ? ` (${finding.files.join(', ')})` : '';
  return `${finding.level.toUpperCase().padEnd(7)} ${finding.check}${code}: ${finding.message}${files}`;
}
