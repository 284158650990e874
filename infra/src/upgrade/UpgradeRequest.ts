import { UpgradeUsageError } from '../errors.js';
import type { AwsUpgradeSite } from './aws/AwsUpgradeSite.js';

export type UpgradeCommand = 'plan' | 'preflight' | 'apply' | 'rollback';

/** What the command line asked for. */
export interface UpgradeRequest {
  readonly command: UpgradeCommand;
  readonly from: string;
  readonly to: string;
  /** A go/no-go report (JSON) of the same upgrade: its measured figures go into the plan. */
  readonly reportFile?: string;
  readonly themeDir?: string;
  readonly imageNode?: string;
  /** Releases from files instead of the npm registry. */
  readonly versionsFile?: string;
  readonly targetPackage?: string;
  readonly databaseVersion?: string;
  /** plan: the deployment, for the exact AWS calls (all four or none); apply and rollback: required. */
  readonly aws?: AwsUpgradeSite;
  /** apply: the target's image, pinned by digest; the go report must be for it. */
  readonly image?: string;
  /** apply and rollback: the site's public URL, read through for the smoke test and the comparison. */
  readonly siteUrl?: string;
  /** rollback: the backup point's label, as apply printed it. */
  readonly backupPoint?: string;
}

export const UPGRADE_USAGE = `Usage: upgrade.sh plan|preflight|apply --from VERSION --to VERSION [options]
       upgrade.sh rollback --backup-point LABEL --url URL --region … --cluster-id … --file-system-id … --report-bucket …

  plan        prints the steps of the upgrade and what each costs (writers' downtime, readers on
              the mirror); changes nothing
  preflight   checks the upgrade before anything changes: the supported path, the image's Node.js
              against the target's engines, the theme through gscan; exits 0 on go, 1 on no-go
  apply       the upgrade on AWS, only with a go report for the same image: lock, maintenance
              answer for writers, Ghost stopped, backup point, the target started and watched,
              smoke test and comparison; any failure rolls back. Exit 0 upgraded, 1 refused or
              rolled back. The Admin API key comes from GHOST_ADMIN_API_KEY.
  rollback    back to a backup point apply took (its label): the snapshot restored to a new
              cluster, the previous task definition started on it

  --from VERSION            the running Ghost (e.g. 5.130.6)
  --to VERSION              the target Ghost (e.g. 6.66.0)
  --report FILE|s3://B/K    plan: a rehearsal's go/no-go report, its measured times used;
                            apply: required, a go for --image
  --image IMAGE             apply: Ghost's image pinned by digest (ghost:6.66.0@sha256:…)
  --url URL                 apply, rollback: the site's public URL (https://blog.example.com)
  --backup-point LABEL      rollback: the label apply printed (before-6-66-0-…)
  --region REGION           plan: with the three below, the exact AWS calls of each step;
                            apply, rollback: required with the three below
  --cluster-id ID           plan: the Aurora cluster Ghost writes to (data stack ClusterIdentifier)
  --file-system-id ID       plan: the content file system (data stack FileSystemId)
  --report-bucket NAME      plan: where the go/no-go report goes
  --project NAME            plan: the stacks' ProjectName (default ghost-ha)
  --theme DIR               preflight: the active theme's directory (required)
  --image-node VERSION      preflight: the Node.js of the target's image (required, e.g. 22.23.2)
  --versions-file FILE      preflight: published Ghost versions (JSON array or one a line) instead
                            of asking the npm registry; needs --target-package
  --target-package FILE     preflight: the target release's package.json (its engines)
  --database-version TEXT   preflight: SELECT VERSION() of the database (e.g. 8.0.mysql_aurora.3.08.0)`;

const VERSION = /^\d+\.\d+\.\d+$/;
const VALUE_OPTIONS = new Set([
  'from',
  'to',
  'report',
  'theme',
  'image-node',
  'versions-file',
  'target-package',
  'database-version',
  'region',
  'cluster-id',
  'file-system-id',
  'report-bucket',
  'project',
  'image',
  'url',
  'backup-point',
]);
const COMMANDS: readonly UpgradeCommand[] = ['plan', 'preflight', 'apply', 'rollback'];
/** An image reference pinned by digest: the go report names exactly one build. */
const PINNED_IMAGE = /^[a-z0-9][a-z0-9._/:-]{0,254}@sha256:[0-9a-f]{64}$/;

/** Parses the upgrade command line; every problem names the option and an example. */
export function parseUpgradeArgs(argv: readonly string[]): UpgradeRequest {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as UpgradeCommand)) {
    throw new UpgradeUsageError(
      `The first argument must be one of ${COMMANDS.join(', ')} (got '${command ?? ''}').\n\n${UPGRADE_USAGE}`,
    );
  }
  const verb = command as UpgradeCommand;
  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const [name = '', inline] = arg.replace(/^--/, '').split(/=(.*)/s, 2);
    if (!arg.startsWith('--') || !VALUE_OPTIONS.has(name)) {
      throw new UpgradeUsageError(`Unknown argument '${arg}'.\n\n${UPGRADE_USAGE}`);
    }
    const value = inline ?? rest[++i];
    if (value === undefined || value.startsWith('--')) throw new UpgradeUsageError(`--${name} needs a value.`);
    values.set(name, value);
  }
  const version = (name: string, example: string): string => {
    const value = values.get(name);
    if (value === undefined) throw new UpgradeUsageError(`--${name} is required, e.g. --${name} ${example}.`);
    if (!VERSION.test(value))
      throw new UpgradeUsageError(`--${name} '${value}' is not a version, e.g. --${name} ${example}.`);
    return value;
  };
  let aws: AwsUpgradeSite | undefined;
  const awsOptions = ['region', 'cluster-id', 'file-system-id', 'report-bucket'];
  const given = awsOptions.filter((name) => values.has(name));
  if (given.length > 0 && given.length < awsOptions.length) {
    const missing = awsOptions.filter((name) => !values.has(name)).map((name) => `--${name}`);
    throw new UpgradeUsageError(
      `${missing.join(', ')} missing: the AWS calls need all of --${awsOptions.join(', --')}.`,
    );
  }
  if (given.length === awsOptions.length) {
    const check = (name: string, pattern: RegExp, example: string): string => {
      const value = values.get(name) ?? '';
      if (!pattern.test(value))
        throw new UpgradeUsageError(`--${name} '${value}' is not valid, e.g. --${name} ${example}.`);
      return value;
    };
    aws = {
      project: values.has('project') ? check('project', /^[a-z][a-z0-9-]{1,30}$/, 'ghost-ha') : 'ghost-ha',
      region: check('region', /^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'eu-west-1'),
      clusterIdentifier: check('cluster-id', /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'ghost-ha-data-cluster-abc123'),
      fileSystemId: check('file-system-id', /^fs-[0-9a-f]{8,40}$/, 'fs-0123456789abcdef0'),
      reportBucket: check('report-bucket', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'ghost-ha-backups-123456789012'),
    };
  }
  const onAws = verb === 'apply' || verb === 'rollback';
  if (onAws && !aws) {
    throw new UpgradeUsageError(
      `${verb} works on the deployment: --${awsOptions.join(', --')} are required, e.g. --region eu-west-1.`,
    );
  }
  let siteUrl: string | undefined;
  if (onAws) {
    const raw = values.get('url');
    if (raw === undefined) throw new UpgradeUsageError(`--url is required, e.g. --url https://blog.example.com.`);
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password) {
      throw new UpgradeUsageError(`--url '${raw}' is not a site address, e.g. --url https://blog.example.com.`);
    }
    siteUrl = parsed.origin;
  }
  if (verb === 'rollback') {
    const label = values.get('backup-point');
    if (!label || !/^before-[0-9a-z-]{1,80}$/.test(label)) {
      throw new UpgradeUsageError(
        `--backup-point ${label === undefined ? 'is required' : `'${label}' is not a backup point's label`}, e.g. --backup-point before-6-66-0-1765061400000 (apply prints it).`,
      );
    }
    return { command: verb, from: '', to: '', backupPoint: label, siteUrl: siteUrl ?? '', ...(aws ? { aws } : {}) };
  }
  const request: UpgradeRequest = {
    command: verb,
    from: version('from', '5.130.6'),
    to: version('to', '6.66.0'),
    ...(siteUrl ? { siteUrl } : {}),
    ...optional(values, 'image', 'image'),
    ...optional(values, 'report', 'reportFile'),
    ...optional(values, 'theme', 'themeDir'),
    ...optional(values, 'image-node', 'imageNode'),
    ...optional(values, 'versions-file', 'versionsFile'),
    ...optional(values, 'target-package', 'targetPackage'),
    ...optional(values, 'database-version', 'databaseVersion'),
    ...(aws ? { aws } : {}),
  };
  if (verb === 'apply') {
    if (!request.image || !PINNED_IMAGE.test(request.image)) {
      throw new UpgradeUsageError(
        `--image ${request.image === undefined ? 'is required' : `'${request.image}' is not pinned by digest`}, e.g. --image ghost:${request.to}@sha256:<64 hex digits> (docker buildx imagetools inspect ghost:${request.to}).`,
      );
    }
    if (!request.reportFile) {
      throw new UpgradeUsageError(
        `--report is required: the rehearsal's go report for this image, e.g. --report s3://${aws?.reportBucket}/upgrade-reports/${request.from}-to-${request.to}/<time>.json.`,
      );
    }
  }
  if (verb === 'preflight') {
    if (!request.themeDir) throw new UpgradeUsageError('--theme is required, e.g. --theme ./content/themes/casper.');
    if (!request.imageNode) throw new UpgradeUsageError('--image-node is required, e.g. --image-node 22.23.2.');
    if ((request.versionsFile === undefined) !== (request.targetPackage === undefined)) {
      throw new UpgradeUsageError(
        '--versions-file and --target-package go together (or neither: the npm registry is asked).',
      );
    }
  }
  return request;
}

function optional<K extends keyof UpgradeRequest>(
  values: Map<string, string>,
  name: string,
  key: K,
): Partial<UpgradeRequest> {
  const value = values.get(name);
  return value === undefined ? {} : { [key]: value };
}
