import { checkDatabaseEngine } from './checkDatabaseEngine.js';
import { checkFreeSpace } from './checkFreeSpace.js';
import { checkNodeEngine } from './checkNodeEngine.js';
import { checkTheme } from './checkTheme.js';
import { checkUpgradePath } from './checkUpgradePath.js';
import type { PreflightFinding } from './PreflightFinding.js';

/** What preflight looks at; what is not known is left out and its check is reported as not run. */
export interface PreflightInput {
  readonly from: string;
  readonly to: string;
  /** The published Ghost releases (npm registry, or a given list). */
  readonly published: readonly string[];
  /** The target's package.json `engines.node`. */
  readonly targetEngines: string | undefined;
  /** The Node.js of the image that will run the target. */
  readonly imageNode: string;
  /** The active theme's directory. */
  readonly themeDir: string;
  /** The content's size and the free space where its backup goes. */
  readonly space?: { readonly contentBytes: number; readonly availableBytes: number };
  /** `SELECT VERSION()` of the production database. */
  readonly databaseVersion?: string;
}

/** Every check, in the order the report prints them. */
export async function runPreflight(input: PreflightInput): Promise<PreflightFinding[]> {
  const notRun = (check: PreflightFinding['check'], what: string): PreflightFinding => ({
    check,
    level: 'warning',
    message: `not checked: ${what} not given`,
  });
  return [
    ...checkUpgradePath(input.from, input.to, input.published),
    ...checkNodeEngine(input.to, input.imageNode, input.targetEngines),
    ...(await checkTheme(input.themeDir, input.to)),
    ...(input.space
      ? checkFreeSpace(input.space.contentBytes, input.space.availableBytes)
      : [notRun('space', 'the content size and free space')]),
    ...(input.databaseVersion !== undefined
      ? checkDatabaseEngine(input.to, input.databaseVersion)
      : [notRun('database', "the database's version")]),
  ];
}
