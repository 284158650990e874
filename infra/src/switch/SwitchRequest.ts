import { SwitchUsageError } from '../errors.js';

export type Direction = 'failover' | 'failback';
/** planned: both regions work, no data loss. disaster: the active region is down, data loss allowed. */
export type Mode = 'planned' | 'disaster';

/** What the command line asked for; identifiers left out are discovered from AWS. */
export interface SwitchRequest {
  readonly direction: Direction;
  readonly mode: Mode;
  readonly apply: boolean;
  /** reprotect only: the standby's content that exists only there has been backed up. */
  readonly salvaged?: boolean;
  /** failover/failback: a target mirror that is not ready is a warning, not a refusal. */
  readonly acceptMirror?: boolean;
  readonly project: string;
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  readonly distributionId: string;
  readonly globalClusterId: string;
  readonly primaryClusterArn?: string;
  readonly secondaryClusterArn?: string;
  readonly primaryFileSystemId?: string;
  readonly secondaryFileSystemId?: string;
}

export const USAGE = `Usage: failover.sh|failback.sh|reprotect.sh --primary-region REGION --secondary-region REGION --distribution-id ID [options]

Prints the ordered steps and the exact AWS calls (plan, the default); --apply runs them, verifying
each one and stopping at the first failure with what to do next.

  --primary-region REGION       region the deployment was created with as primary (e.g. eu-west-1)
  --secondary-region REGION     the pilot-light region (e.g. eu-central-1)
  --distribution-id ID          the edge stack's CloudFront distribution (e.g. E2ABCDEF123456)
  --mode planned|disaster       planned (default): switchover, no data loss; disaster: the active
                                region is down, Aurora failover allowing data loss
  --project NAME                the stacks' ProjectName (default ghost-ha)
  --global-cluster ID           the Aurora global database (default <project>-global)
  --primary-cluster-arn ARN     skip discovery of the primary Aurora cluster
  --secondary-cluster-arn ARN   skip discovery of the secondary Aurora cluster
  --primary-file-system ID      skip discovery of the primary EFS file system (fs-...)
  --secondary-file-system ID    skip discovery of the secondary EFS file system
  --salvaged                     the file system about to be overwritten was backed up already: the
                                salvage step skips its own backup (it still copies Aurora's snapshot)
  --accept-mirror               a planned switch goes on when the target region's static mirror lacks
                                its home or 404 page (a warning instead of a refusal)
  --apply                       make the changes

reprotect.sh re-establishes EFS replication from the region Ghost runs in (read from the global
database's writer) to the other one, without moving Ghost.`;

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const VALUE_OPTIONS = new Set([
  'primary-region',
  'secondary-region',
  'distribution-id',
  'mode',
  'project',
  'global-cluster',
  'primary-cluster-arn',
  'secondary-cluster-arn',
  'primary-file-system',
  'secondary-file-system',
]);

/** Parses the failover/failback command line; every problem names the option and an example. */
export function parseSwitchArgs(direction: Direction, argv: readonly string[]): SwitchRequest {
  const values = new Map<string, string>();
  let apply = false;
  let salvaged = false;
  let acceptMirror = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--apply') {
      apply = true;
      continue;
    }
    if (arg === '--salvaged') {
      salvaged = true;
      continue;
    }
    if (arg === '--accept-mirror') {
      acceptMirror = true;
      continue;
    }
    const [name = '', inline] = arg.replace(/^--/, '').split(/=(.*)/s, 2);
    if (!arg.startsWith('--') || !VALUE_OPTIONS.has(name)) {
      throw new SwitchUsageError(`Unknown argument '${arg}'.\n\n${USAGE}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) {
      throw new SwitchUsageError(`--${name} needs a value.\n\n${USAGE}`);
    }
    values.set(name, value);
  }
  const required = (name: string, example: string, pattern: RegExp): string => {
    const value = values.get(name);
    if (value === undefined)
      throw new SwitchUsageError(`--${name} is required, e.g. --${name} ${example}.\n\n${USAGE}`);
    if (!pattern.test(value)) {
      throw new SwitchUsageError(`--${name} '${value}' is not valid, e.g. --${name} ${example}.`);
    }
    return value;
  };
  const optional = (name: string, example: string, pattern: RegExp): string | undefined => {
    const value = values.get(name);
    if (value !== undefined && !pattern.test(value)) {
      throw new SwitchUsageError(`--${name} '${value}' is not valid, e.g. --${name} ${example}.`);
    }
    return value;
  };
  const primaryRegion = required('primary-region', 'eu-west-1', REGION);
  const secondaryRegion = required('secondary-region', 'eu-central-1', REGION);
  if (primaryRegion === secondaryRegion) {
    throw new SwitchUsageError(
      `--primary-region and --secondary-region are both '${primaryRegion}'; they must differ.`,
    );
  }
  const mode = optional('mode', 'planned', /^(planned|disaster)$/) ?? 'planned';
  const project = optional('project', 'ghost-ha', /^[a-z][a-z0-9-]{1,30}$/) ?? 'ghost-ha';
  const clusterArn = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[a-zA-Z][a-zA-Z0-9-]*$/;
  const fileSystem = /^fs-[0-9a-f]{8,40}$/;
  return {
    direction,
    mode: mode as Mode,
    apply,
    salvaged,
    acceptMirror,
    project,
    primaryRegion,
    secondaryRegion,
    distributionId: required('distribution-id', 'E2ABCDEF123456', /^[A-Z0-9]{10,20}$/),
    globalClusterId:
      optional('global-cluster', 'ghost-ha-global', /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/) ?? `${project}-global`,
    primaryClusterArn: optional('primary-cluster-arn', 'arn:aws:rds:eu-west-1:123456789012:cluster:ghost', clusterArn),
    secondaryClusterArn: optional(
      'secondary-cluster-arn',
      'arn:aws:rds:eu-central-1:123456789012:cluster:ghost',
      clusterArn,
    ),
    primaryFileSystemId: optional('primary-file-system', 'fs-0123456789abcdef0', fileSystem),
    secondaryFileSystemId: optional('secondary-file-system', 'fs-0123456789abcdef0', fileSystem),
  };
}
