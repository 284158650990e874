// @module-tag integration
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PINNED_VERSIONS, REPO_ROOT } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const SETTINGS = `
PROJECT=blog
PRIMARY_REGION=eu-west-1
SECONDARY_REGION=eu-central-1
SITE_URL=https://blog.example.com
ALIASES=blog.example.com
PRIMARY_CERTIFICATE_ARN=arn:aws:acm:eu-west-1:123456789012:certificate/p
SECONDARY_CERTIFICATE_ARN=arn:aws:acm:eu-central-1:123456789012:certificate/s
EDGE_CERTIFICATE_ARN=arn:aws:acm:us-east-1:123456789012:certificate/e
PRIMARY_ORIGIN_HOST=origin-eu-west-1.blog.example.com
SECONDARY_ORIGIN_HOST=origin-eu-central-1.blog.example.com
HEALTH_SIDECAR_IMAGE=blog/health-sidecar:abc
CACHE_INVALIDATOR_IMAGE=blog/cache-invalidator:abc
GHOST_IMAGE=ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
REGISTRIES="111.dkr.ecr.eu-west-1.amazonaws.com 111.dkr.ecr.eu-central-1.amazonaws.com"
ARTIFACT_BUCKET=artifacts
DELETE_ALL_POSTS_KEY=functions/delete-all-posts-1.zip
RESTORE_POSTS_KEY=functions/restore-posts-1.zip
`;

interface Deploy {
  readonly region: string;
  readonly stack: string;
  readonly parameters: Record<string, string>;
}

/** The `aws cloudformation deploy` calls a dry run prints, in order. */
function deploys(output: string): Deploy[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('aws cloudformation deploy '))
    .map((line) => {
      const words = line.split(' ');
      const after = (flag: string) => words[words.indexOf(flag) + 1] ?? '';
      const overrides = words.slice(words.indexOf('--parameter-overrides') + 1);
      return {
        region: after('--region'),
        stack: after('--stack-name'),
        parameters: Object.fromEntries(overrides.map((w) => w.split(/=(.*)/s, 2) as [string, string])),
      };
    });
}

describe('scripts/deploy.sh --dry-run', () => {
  let dir = '';
  let config = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ghost-ha-deploy-'));
    config = join(dir, 'deploy.env');
    await writeFile(config, SETTINGS);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const deploy = async (...args: string[]) => {
    // An empty artifacts directory: the settings above are the only input.
    const { stdout } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), ...args, '--config', config, '--dry-run'],
      {
        env: { ...process.env, PATH: process.env.PATH ?? '' },
        cwd: REPO_ROOT,
      },
    );
    return deploys(stdout);
  };

  it('deploys every layer in dependency order, the primary data stack twice (replication needs the replica), the data stacks again with the distribution (mirror buckets)', async () => {
    const { stdout } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'all', '--config', config, '--dry-run'],
      {
        env: { ...process.env, PATH: process.env.PATH ?? '' },
        cwd: REPO_ROOT,
      },
    );
    const calls = deploys(stdout);
    expect(calls.map((c) => `${c.stack}@${c.region}`)).toEqual([
      'blog-network@eu-central-1',
      'blog-network@eu-west-1',
      'blog-data@eu-west-1',
      'blog-data@eu-central-1',
      'blog-data@eu-west-1',
      'blog-app@eu-west-1',
      'blog-app@eu-central-1',
      'blog-functions@eu-west-1',
      'blog-edge@us-east-1',
      'blog-data@eu-west-1',
      'blog-app@eu-west-1',
      'blog-observability@eu-west-1',
      'blog-data@eu-central-1',
      'blog-app@eu-central-1',
      'blog-observability@eu-central-1',
      'blog-edge-observability@us-east-1',
    ]);
    const data = calls.filter((c) => c.stack === 'blog-data');
    expect(data.map((c) => c.parameters.Role)).toEqual(['primary', 'secondary', 'primary', 'primary', 'secondary']);
    const apps = calls.filter((c) => c.stack === 'blog-app');
    // A dry run takes the account as empty: the apps come up with no Ghost task, Ghost's database
    // user is created, then the edge's deployment of the apps starts Ghost.
    expect(apps.map((c) => `${c.region}:${c.parameters.DesiredCount}`)).toEqual([
      'eu-west-1:0',
      'eu-central-1:0',
      'eu-west-1:1',
      'eu-central-1:0',
    ]);
    const lines = stdout.split('\n');
    const userCreated = lines.findIndex(
      (line) => line.includes('rds-data execute-statement') && line.includes('CREATE\\ USER'),
    );
    const ghostStarted = lines.findIndex(
      (line) => line.includes('--stack-name blog-app') && line.includes('DesiredCount=1'),
    );
    expect(userCreated).toBeGreaterThan(lines.findIndex((line) => line.includes('--stack-name blog-app')));
    expect(ghostStarted).toBeGreaterThan(userCreated);
    // Each region pulls its images from its own registry.
    expect(apps[1]?.parameters.HealthSidecarImage).toBe(
      '111.dkr.ecr.eu-central-1.amazonaws.com/blog/health-sidecar:abc',
    );
    expect(apps[0]?.parameters.CacheInvalidatorImage).toBe(
      '111.dkr.ecr.eu-west-1.amazonaws.com/blog/cache-invalidator:abc',
    );
    // The Ghost mirror package.sh pinned by digest, from each region's own registry.
    expect(apps.map((c) => c.parameters.GhostImage)).toEqual([
      '111.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      '111.dkr.ecr.eu-central-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      '111.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      '111.dkr.ecr.eu-central-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ]);
    for (const call of calls) expect(call.parameters.ProjectName).toBe('blog');
  });

  it("deploys Ghost's pinned release unless GHOST_IMAGE says otherwise (an update moves a running stack to it)", async () => {
    const withoutImage = join(dir, 'no-ghost-image.env');
    await writeFile(withoutImage, SETTINGS.replace(/^GHOST_IMAGE=.*$/m, ''));
    const { stdout } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'region', 'primary', '--config', withoutImage, '--dry-run'],
      { env: { ...process.env, PATH: process.env.PATH ?? '' }, cwd: REPO_ROOT },
    );
    const apps = deploys(stdout).filter((c) => c.stack === 'blog-app');
    // Twice: with no Ghost task until its database user exists, then with Ghost (a dry run takes the account as empty).
    expect(apps.map((c) => c.parameters.GhostImage)).toEqual([
      `ghost:${PINNED_VERSIONS.ghost}`,
      `ghost:${PINNED_VERSIONS.ghost}`,
    ]);
    // With GHOST_IMAGE (what scripts/package.sh writes: the mirrored image by digest), that one.
    const mirrored = (await deploy('region', 'primary')).filter((c) => c.stack === 'blog-app');
    expect(new Set(mirrored.map((c) => c.parameters.GhostImage))).toEqual(
      new Set([
        '111.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      ]),
    );
  });

  it("refuses to run the secondary's task from the primary's registry (an outage of the primary would stop it)", async () => {
    const oneRegistry = join(dir, 'one-registry.env');
    await writeFile(
      oneRegistry,
      SETTINGS.replace(/^REGISTRIES=.*$/m, 'REGISTRIES="111.dkr.ecr.eu-west-1.amazonaws.com"'),
    );
    const secondary = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'region', 'secondary', '--config', oneRegistry, '--dry-run'],
      { env: { ...process.env, PATH: process.env.PATH ?? '' }, cwd: REPO_ROOT },
    ).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );
    expect(secondary.stdout).not.toContain('dkr.ecr.eu-west-1');
    expect(secondary.code).toBe(1);
    expect(secondary.stderr).toContain('has no registry in eu-central-1');
    // The error shows how to package for both regions.
    expect(secondary.stderr).toContain('--registry 123456789012.dkr.ecr.eu-central-1.amazonaws.com');
    expect(deploys(secondary.stdout).map((c) => c.stack)).toEqual(['blog-network', 'blog-data']);
    // A full URI in the other region's registry is refused the same way.
    const fullUri = join(dir, 'full-uri.env');
    await writeFile(
      fullUri,
      `${SETTINGS}\nHEALTH_SIDECAR_IMAGE=111.dkr.ecr.eu-west-1.amazonaws.com/blog/health-sidecar@sha256:${'a'.repeat(64)}\n`,
    );
    const refused = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'region', 'secondary', '--config', fullUri, '--dry-run'],
      { env: { ...process.env, PATH: process.env.PATH ?? '' }, cwd: REPO_ROOT },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is not in eu-central-1's registry");
  });

  it('keeps a failover in place with --active secondary', async () => {
    const calls = await deploy('edge', '--active', 'secondary');
    expect(calls.find((c) => c.stack === 'blog-edge')?.parameters.ActiveRegion).toBe('secondary');
    const apps = calls.filter((c) => c.stack === 'blog-app');
    expect(apps.map((c) => `${c.region}:${c.parameters.DesiredCount}`)).toEqual(['eu-west-1:0', 'eu-central-1:1']);
    const observability = calls.filter((c) => c.stack === 'blog-observability');
    expect(observability.map((c) => `${c.region}:${c.parameters.Role}`)).toEqual([
      'eu-west-1:standby',
      'eu-central-1:active',
    ]);
  });

  /**
   * A real (not dry) run against an `aws` on PATH that records its calls: CloudFormation accepts
   * everything, the origin-verify secret answers `token` or, when undefined, AccessDenied; no global
   * database yet; Ghost's service runs one task. Ghost's image is the template's (one pinned in ECR
   * would be checked there).
   */
  const deployAgainstFakeAws = async (token: string | undefined, ...args: string[]) => {
    const bin = await mkdtemp(join(dir, 'bin-'));
    const calls = join(bin, 'calls.log');
    await writeFile(
      join(bin, 'aws'),
      `#!/usr/bin/env bash
echo "$*" >> "${calls}"
case "$1 $2" in
"secretsmanager get-secret-value")
  ${token === undefined ? 'echo "An error occurred (AccessDeniedException) when calling the GetSecretValue operation" >&2; exit 254' : `printf '%s\n' '${token}'`} ;;
"ec2 describe-managed-prefix-lists") echo pl-0123 ;;
"ecs describe-services") printf '1\t1\n' ;;
"rds describe-global-clusters") echo "An error occurred (GlobalClusterNotFoundFault) when calling the DescribeGlobalClusters operation" >&2; exit 254 ;;
"cloudformation describe-stacks") echo None ;;
esac
`,
    );
    await chmod(join(bin, 'aws'), 0o755);
    const settings = join(bin, 'deploy.env');
    await writeFile(settings, SETTINGS.replace(/^GHOST_IMAGE=.*$/m, ''));
    const outcome = await run('bash', [join(REPO_ROOT, 'scripts/deploy.sh'), ...args, '--config', settings], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      cwd: REPO_ROOT,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );
    const log = await readFile(calls, 'utf8').catch(() => '');
    return { ...outcome, stacks: [...log.matchAll(/cloudformation deploy .*--stack-name (\S+)/g)].map((m) => m[1]) };
  };

  it('stops before deploying an app or edge stack when the origin-verify secret cannot be read', async () => {
    const denied = await deployAgainstFakeAws(undefined, 'region', 'primary');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Cannot read the secret blog/origin-verify in eu-west-1');
    expect(denied.stacks).toEqual(['blog-network', 'blog-data']);
    // A blank or malformed value stops it the same way: the ALB must never be deployed open.
    const blank = await deployAgainstFakeAws('', 'region', 'primary');
    expect(blank.code).toBe(1);
    expect(blank.stderr).toContain('blog/origin-verify in eu-west-1 is not 32-128 letters and digits');
    expect(blank.stacks).toEqual(['blog-network', 'blog-data']);
    const edge = await deployAgainstFakeAws(undefined, 'edge');
    expect(edge.code).toBe(1);
    expect(edge.stacks).toEqual([]);
    // With a readable token the same run goes through every stack.
    const readable = await deployAgainstFakeAws('c'.repeat(48), 'region', 'primary');
    expect(readable.code).toBe(0);
    expect(readable.stacks).toEqual(['blog-network', 'blog-data', 'blog-app', 'blog-functions', 'blog-observability']);
  });

  it('rotates the origin token: the ALBs accept old and new, CloudFront moves, then the new one only', async () => {
    const { stdout } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'rotate-origin-token', '--config', config, '--dry-run'],
      { env: { ...process.env, PATH: process.env.PATH ?? '' }, cwd: REPO_ROOT },
    );
    const put = stdout.split('\n').find((line) => line.includes('secretsmanager put-secret-value'));
    // The new value travels in a file, never on the command line.
    expect(put).toMatch(/--secret-id blog\/origin-verify --secret-string file:\/\//);
    // The dry run prints each word as bash's printf %q quotes it.
    const calls = deploys(stdout).filter((c) => c.stack === 'blog-app' || c.stack === 'blog-edge');
    // Both regions get the primary's current value (the replica may lag); the previous value
    // (AWSPREVIOUS) is accepted until CloudFront sends the new one.
    expect(
      calls.map(
        (c) =>
          `${c.stack}@${c.region}:${c.parameters.OriginVerifyToken}:${c.parameters.OriginVerifyPreviousToken ?? '-'}`,
      ),
    ).toEqual([
      'blog-app@eu-west-1:\\<blog/origin-verify\\>:\\<blog/origin-verify:AWSPREVIOUS\\>',
      'blog-app@eu-central-1:\\<blog/origin-verify\\>:\\<blog/origin-verify:AWSPREVIOUS\\>',
      'blog-edge@us-east-1:\\<blog/origin-verify\\>:-',
      'blog-app@eu-west-1:\\<blog/origin-verify\\>:',
      'blog-app@eu-central-1:\\<blog/origin-verify\\>:',
    ]);
    expect(stdout.indexOf('put-secret-value')).toBeLessThan(stdout.indexOf('--stack-name blog-app'));
    // --resume finishes a rotation that stopped: the same deployments, no new value.
    const resumed = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/deploy.sh'), 'rotate-origin-token', '--resume', '--config', config, '--dry-run'],
      { env: { ...process.env, PATH: process.env.PATH ?? '' }, cwd: REPO_ROOT },
    );
    expect(resumed.stdout).not.toContain('put-secret-value');
    expect(deploys(resumed.stdout).map((c) => c.stack)).toEqual(deploys(stdout).map((c) => c.stack));
  });

  it('rejects a config that misses settings, naming them', async () => {
    const partial = join(dir, 'partial.env');
    await writeFile(partial, 'PRIMARY_REGION=eu-west-1\n');
    const failure = await run('bash', [
      join(REPO_ROOT, 'scripts/deploy.sh'),
      'all',
      '--config',
      partial,
      '--dry-run',
    ]).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /does not set: SECONDARY_REGION SITE_URL ALIASES PRIMARY_CERTIFICATE_ARN SECONDARY_CERTIFICATE_ARN EDGE_CERTIFICATE_ARN PRIMARY_ORIGIN_HOST SECONDARY_ORIGIN_HOST/,
    );
  });
});
