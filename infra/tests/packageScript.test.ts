// @module-tag integration
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';

const run = promisify(execFile);

// Stands in for the Docker CLI only (no engine here): records each call; `inspect` answers the
// digest a registry would report for the pushed reference.
const FAKE_DOCKER = `#!/usr/bin/env bash
echo "$*" >>"$DOCKER_LOG"
if [[ "$1" == inspect ]]; then
  ref="\${*: -1}"
  echo "\${ref%:*}@sha256:$(printf %s "$ref" | sha256sum | cut -c1-64)"
fi
`;

describe('scripts/package.sh with --registry (Docker CLI recorded)', () => {
  let dir = '';
  let calls: string[] = [];
  let artifacts = '';
  const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ghost-ha-package-'));
    await writeFile(join(dir, 'docker'), FAKE_DOCKER);
    await chmod(join(dir, 'docker'), 0o755);
    await run('bash', [join(REPO_ROOT, 'scripts', 'package.sh'), '--registry', registry, '--tag', 'abc123'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        DOCKER_LOG: join(dir, 'docker.log'),
        ARTIFACTS_DIR: join(dir, 'artifacts'),
      },
      timeout: 170_000,
    });
    calls = (await readFile(join(dir, 'docker.log'), 'utf8')).trim().split('\n');
    artifacts = await readFile(join(dir, 'artifacts', 'artifacts.env'), 'utf8');
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds both service images for linux/amd64, the architecture the task pins', async () => {
    const builds = calls.filter((c) => c.startsWith('build '));
    expect(builds).toHaveLength(2);
    for (const build of builds) expect(build).toMatch(/^build --platform linux\/amd64 /);
    const app = await readFile(join(REPO_ROOT, 'infra', 'cloudformation', 'app.yaml'), 'utf8');
    expect(app).toMatch(/CpuArchitecture: X86_64/);
  });

  it("mirrors the template's Ghost image into the registry (pulled for linux/amd64)", async () => {
    const app = await readFile(join(REPO_ROOT, 'infra', 'cloudformation', 'app.yaml'), 'utf8');
    const ghost = app.match(/^ {2}GhostImage:\n(?: {4}.*\n)*? {4}Default: (\S+)/m)?.[1] ?? '';
    expect(ghost).toMatch(/^ghost:\d/);
    expect(calls).toContain(`pull --quiet --platform linux/amd64 ${ghost}`);
    expect(calls).toContain(`push --quiet ${registry}/ghost-ha/ghost:${ghost.split(':')[1]}`);
  });

  it("pushes to the registry stack's repositories of the given project (<ProjectName>/<service>)", async () => {
    const out = join(dir, 'project');
    const log = join(dir, 'project.log');
    await run(
      'bash',
      [join(REPO_ROOT, 'scripts', 'package.sh'), '--project', 'blog', '--registry', registry, '--tag', 'abc123'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, DOCKER_LOG: log, ARTIFACTS_DIR: out },
        timeout: 170_000,
      },
    );
    const pushes = (await readFile(log, 'utf8')).split('\n').filter((c) => c.startsWith('push '));
    expect(pushes).toContain(`push --quiet ${registry}/blog/health-sidecar:abc123`);
    expect(pushes).toContain(`push --quiet ${registry}/blog/cache-invalidator:abc123`);
    expect(pushes.filter((c) => c.includes('/ghost-ha/'))).toEqual([]);
    expect(await readFile(join(out, 'artifacts.env'), 'utf8')).toMatch(
      /^HEALTH_SIDECAR_IMAGE=blog\/health-sidecar@sha256:/m,
    );
    // The repositories the registry stack makes for that project.
    const repository = loadTemplate('registry').Resources.HealthSidecarRepository?.Properties?.RepositoryName;
    expect(JSON.stringify(repository)).toBe(JSON.stringify({ 'Fn::Sub': `\${ProjectName}/health-sidecar` }));
    const refused = await run('bash', [join(REPO_ROOT, 'scripts', 'package.sh'), '--project', 'My_Blog'], {
      cwd: REPO_ROOT,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain("--project 'My_Blog' is not a ProjectName");
  }, 180_000);

  it("pushes to each region's registry and names a replicated one, in a file that sources safely", async () => {
    const secondary = '123456789012.dkr.ecr.eu-central-1.amazonaws.com';
    const replica = '123456789012.dkr.ecr.eu-north-1.amazonaws.com';
    const out = join(dir, 'two-registries');
    const log = join(dir, 'two-registries.log');
    await run(
      'bash',
      [
        join(REPO_ROOT, 'scripts', 'package.sh'),
        '--registry',
        registry,
        '--registry',
        secondary,
        '--replica-registry',
        replica,
        '--tag',
        'abc123',
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, DOCKER_LOG: log, ARTIFACTS_DIR: out },
        timeout: 170_000,
      },
    );
    const pushes = (await readFile(log, 'utf8')).split('\n').filter((c) => c.startsWith('push '));
    for (const target of [registry, secondary]) {
      expect(pushes).toContain(`push --quiet ${target}/ghost-ha/health-sidecar:abc123`);
    }
    // Replication fills the replica: nothing is pushed there.
    expect(pushes.filter((c) => c.includes(replica))).toEqual([]);
    // deploy.sh sources the file: every registry in REGISTRIES, and no word run as a command.
    const { stdout } = await run('bash', [
      '-c',
      'set -eu; source "$1"; printf %s "$REGISTRIES"',
      'source',
      join(out, 'artifacts.env'),
    ]);
    expect(stdout).toBe(`${registry} ${secondary} ${replica}`);
  }, 180_000);

  it('pins every image by the digest the registry reports', () => {
    expect(artifacts).toMatch(/^HEALTH_SIDECAR_IMAGE=ghost-ha\/health-sidecar@sha256:[0-9a-f]{64}$/m);
    expect(artifacts).toMatch(/^CACHE_INVALIDATOR_IMAGE=ghost-ha\/cache-invalidator@sha256:[0-9a-f]{64}$/m);
    expect(artifacts).toMatch(/^GHOST_IMAGE=ghost-ha\/ghost@sha256:[0-9a-f]{64}$/m);
    expect(artifacts).toContain(`REGISTRIES="${registry}"`);
  });
});
