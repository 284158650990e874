import { stat } from 'node:fs/promises';
import gscan, { type GscanResult } from 'gscan';
import semver from 'semver';
import type { PreflightFinding } from './PreflightFinding.js';

/**
 * The active theme checked with gscan, the validator Ghost runs on a theme upload, against the
 * target's major (gscan's rule set `v<major>`). Fatal errors are those Ghost refuses a theme for
 * (the site would answer 500s or Ghost would not activate it): they make the upgrade a no-go.
 * Other errors are named; warnings (e.g. a helper the target no longer supports) are named too.
 */
export async function checkTheme(themeDir: string, target: string): Promise<PreflightFinding[]> {
  const check = 'theme';
  const major = semver.major(target);
  const isDirectory = await stat(themeDir).then(
    (found) => found.isDirectory(),
    () => false,
  );
  if (!isDirectory) return [{ check, level: 'fatal', message: `theme directory '${themeDir}' does not exist` }];
  const checkVersion = `v${major}`;
  let results: ReturnType<typeof gscan.format>['results'];
  try {
    results = gscan.format(await gscan.check(themeDir, { checkVersion }), { checkVersion }).results;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [{ check, level: 'fatal', message: `gscan could not check the theme against Ghost ${major}: ${reason}` }];
  }
  const findings = [
    ...results.error.map((result) => themeFinding(result, result.fatal ? 'fatal' : 'error')),
    ...results.warning.map((result) => themeFinding(result, 'warning')),
  ];
  if (findings.length === 0) {
    return [{ check, level: 'ok', message: `gscan found no errors or warnings for Ghost ${major}` }];
  }
  return findings;
}

function themeFinding(result: GscanResult, level: PreflightFinding['level']): PreflightFinding {
  const files = [...new Set((result.failures ?? []).map((failure) => failure.ref))];
  return { check: 'theme', level, code: result.code, message: plainText(result.rule), files };
}

/** gscan's rule texts carry HTML (`<code>{{#if}}</code>`): the report prints plain text. */
function plainText(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
