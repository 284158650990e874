import { summarizeError } from '@ghost-ha/core';
import { UpgradeLockedError, UpgradeRefusedError, UpgradeRollbackFailedError, UpgradeUsageError } from '../errors.js';
import type { AwsClients } from '../switch/AwsClients.js';
import type { Pacing } from '../switch/poll.js';
import { runAwsUpgrade } from './aws/runAwsUpgrade.js';
import { upgradeCalls } from './aws/upgradeCalls.js';
import { formatUpgradePlan } from './formatUpgradePlan.js';
import { planUpgrade } from './planUpgrade.js';
import { fileGhostReleases, type GhostReleases, npmGhostReleases } from './preflight/GhostReleases.js';
import { formatFinding, verdictOf } from './preflight/PreflightFinding.js';
import { runPreflight } from './preflight/runPreflight.js';
import { readReport } from './readReport.js';
import { parseUpgradeArgs, UPGRADE_USAGE } from './UpgradeRequest.js';

export interface UpgradeIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Where Ghost's releases are read from, unless the command line names files. */
  readonly releases?: GhostReleases;
  /** The time the AWS resources' names carry. */
  readonly now?: () => Date;
  /** apply and rollback: the AWS clients and the waits' pacing (tests swap them). */
  readonly clients?: AwsClients;
  readonly pacing?: Pacing;
  /** Where GHOST_ADMIN_API_KEY is read from (process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Exit codes: 0 planned, go or upgraded, 1 no-go, refused, rolled back or a failure, 2 the command line is wrong. */
export async function runUpgrade(argv: readonly string[], io: UpgradeIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${UPGRADE_USAGE}\n`);
    return 0;
  }
  try {
    const request = parseUpgradeArgs(argv);
    if (request.command === 'plan') {
      const report = request.reportFile ? await readReport(request.reportFile, request.from, request.to) : undefined;
      const calls = request.aws
        ? upgradeCalls(request.aws, request.from, request.to, io.now?.() ?? new Date())
        : undefined;
      io.out(`${formatUpgradePlan(planUpgrade(request.from, request.to, report, calls))}\n`);
      return 0;
    }
    if (request.command === 'apply' || request.command === 'rollback') return await runAwsUpgrade(request, io);
    const releases =
      request.versionsFile && request.targetPackage
        ? fileGhostReleases(request.versionsFile, request.targetPackage)
        : (io.releases ?? npmGhostReleases());
    const findings = await runPreflight({
      from: request.from,
      to: request.to,
      published: await releases.published(),
      targetEngines: await releases.enginesNode(request.to),
      imageNode: request.imageNode ?? '',
      themeDir: request.themeDir ?? '',
      ...(request.databaseVersion !== undefined ? { databaseVersion: request.databaseVersion } : {}),
    });
    const verdict = verdictOf(findings);
    io.out(`Preflight of Ghost ${request.from} → ${request.to}: ${verdict.toUpperCase()}\n`);
    for (const finding of findings) io.out(`  ${formatFinding(finding)}\n`);
    if (verdict === 'no-go') io.out('Nothing was changed.\n');
    return verdict === 'go' ? 0 : 1;
  } catch (error) {
    if (error instanceof UpgradeUsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    if (error instanceof UpgradeRefusedError || error instanceof UpgradeLockedError) {
      io.err(`Refused: ${error.message}\n`);
      return 1;
    }
    if (error instanceof UpgradeRollbackFailedError) {
      io.err(`ROLLBACK FAILED: ${error.message}\n`);
      return 1;
    }
    const { name, message } = summarizeError(error);
    io.err(`Unexpected ${name}: ${message}\n`);
    return 1;
  }
}
