// @module-tag integration
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
    const calls = await deploy('all');
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
    expect(apps.map((c) => `${c.region}:${c.parameters.DesiredCount}`)).toEqual([
      'eu-west-1:1',
      'eu-central-1:0',
      'eu-west-1:1',
      'eu-central-1:0',
    ]);
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
    expect(apps.map((c) => c.parameters.GhostImage)).toEqual([`ghost:${PINNED_VERSIONS.ghost}`]);
    // With GHOST_IMAGE (what scripts/package.sh writes: the mirrored image by digest), that one.
    const mirrored = (await deploy('region', 'primary')).filter((c) => c.stack === 'blog-app');
    expect(mirrored.map((c) => c.parameters.GhostImage)).toEqual([
      '111.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/ghost@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ]);
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
