import { userInfo } from 'node:os';
import { UpgradeUsageError } from '../../errors.js';
import { AwsClients } from '../../switch/AwsClients.js';
import { type Pacing, REAL_PACING } from '../../switch/poll.js';
import { applyUpgrade, rollBack, type UpgradeOutcome } from '../applyUpgrade.js';
import { formatComparison } from '../contentSnapshot.js';
import { readReport } from '../readReport.js';
import type { UpgradeRequest } from '../UpgradeRequest.js';
import { AwsUpgradeTarget } from './AwsUpgradeTarget.js';

export interface AwsUpgradeIo {
  readonly out: (text: string) => void;
  readonly clients?: AwsClients;
  readonly pacing?: Pacing;
  /** Where GHOST_ADMIN_API_KEY is read from (process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A rollback restores a cluster and boots the previous release: bounded, not endless. */
const ROLLBACK_BOOT_TIMEOUT_MS = 20 * 60_000;

/** The Admin API key from the environment, never the command line (argv is visible to every user). */
function adminApiKey(env: Readonly<Record<string, string | undefined>>): string {
  const key = env.GHOST_ADMIN_API_KEY?.trim() ?? '';
  if (!/^[0-9a-f]{24}:[0-9a-f]{64}$/.test(key)) {
    throw new UpgradeUsageError(
      `GHOST_ADMIN_API_KEY ${key ? 'is not an Admin API key' : 'is not set'}: the smoke test and the comparison read the site through the Admin API. ` +
        "Set it to a custom integration's key (Ghost Admin → Settings → Integrations), e.g. export GHOST_ADMIN_API_KEY=<24 hex>:<64 hex>.",
    );
  }
  return key;
}

/** `upgrade.sh apply` and `upgrade.sh rollback`: exit 0 upgraded (or rolled back on request), 1 refused or rolled back. */
export async function runAwsUpgrade(request: UpgradeRequest, io: AwsUpgradeIo): Promise<number> {
  const site = request.aws;
  if (!site || !request.siteUrl) throw new UpgradeUsageError('apply and rollback need the deployment and --url.');
  const key = adminApiKey(io.env ?? process.env);
  const clients = io.clients ?? new AwsClients();
  const pacing = io.pacing ?? REAL_PACING;
  const progress = (line: string) => io.out(`${line}\n`);
  try {
    const rollbackOnly = request.command === 'rollback';
    const target = new AwsUpgradeTarget({
      site,
      clients,
      pacing,
      url: request.siteUrl,
      adminApiKey: key,
      from: request.from,
      to: request.to,
      targetImage: request.image ?? '',
      holder: `${userInfo().username} (upgrade.sh ${request.command})`,
      progress,
    });
    if (rollbackOnly) {
      const label = request.backupPoint ?? '';
      const point = await target.readBackupPoint(label).catch((error: unknown) => {
        throw new UpgradeUsageError(
          `Backup point ${label} is not recorded in s3://${site.reportBucket}/upgrade-backup-points/: ${(error as Error).name}`,
          { cause: error },
        );
      });
      const release = await target.lock();
      try {
        progress(
          `Rolling back to ${point.version} from backup point ${point.label} (snapshot ${point.snapshotIdentifier})`,
        );
        const ms = await rollBack(target, point, ROLLBACK_BOOT_TIMEOUT_MS, pacing.now);
        progress(
          `Rolled back: Ghost ${point.version} answers on ${target.restoredDatabaseHost} after ${(ms / 1000).toFixed(1)} s.`,
        );
        progress(afterRestore(site.clusterIdentifier, target.restoredDatabaseHost));
        return 0;
      } finally {
        await release();
      }
    }
    const report = await readReport(request.reportFile ?? '', request.from, request.to, {
      clients,
      region: site.region,
    });
    const outcome = await applyUpgrade({
      target,
      from: request.from,
      to: request.to,
      image: request.image ?? '',
      report,
      progress,
      now: pacing.now,
    });
    io.out(formatOutcome(outcome, request));
    if (outcome.result === 'rolled-back') progress(afterRestore(site.clusterIdentifier, target.restoredDatabaseHost));
    return outcome.result === 'upgraded' ? 0 : 1;
  } finally {
    if (!io.clients) clients.destroy();
  }
}

function formatOutcome(outcome: UpgradeOutcome, request: UpgradeRequest): string {
  const t = outcome.timings;
  const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    outcome.result === 'upgraded'
      ? `Upgraded: Ghost ${request.to} (${request.image}) runs.`
      : `ROLLED BACK to Ghost ${request.from}: ${outcome.failure ?? ''}`,
    `  backup point ${outcome.backupPoint.label} (upgrade.sh rollback --backup-point ${outcome.backupPoint.label})`,
    `  stop ${s(t.stopMs)}, backup point ${s(t.backupMs)}, boot ${s(t.bootMs)}, rollback ${s(t.rollbackMs)}; writers got 503 for ${s(t.writersDownMs)}`,
    formatComparison(outcome.comparison),
    ...outcome.smokeDifferences.map((d) => `  smoke: ${d}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** What a rollback leaves for the operator: Ghost runs on a restored cluster outside the stacks. */
function afterRestore(cluster: string, restored: string | undefined): string {
  if (!restored) return '';
  return [
    `Ghost now runs on the restored cluster (${restored}), outside the data stack, whose cluster ${cluster} still holds the schema of the release rolled back from.`,
    'The content volume was not rolled back; its recovery point is recorded with the backup point.',
    "Next: make the restored cluster the data stack's (or restore the snapshot over it in a maintenance window), then rebuild the global database's secondary from it.",
  ].join('\n');
}
