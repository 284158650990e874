import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';
import type { GoNoGoReport } from '../src/upgrade/GoNoGoReport.js';
import { planUpgrade, writersDowntime } from '../src/upgrade/planUpgrade.js';
import { runUpgrade } from '../src/upgrade/runUpgrade.js';

const THEMES = fileURLToPath(new URL('./fixtures/themes/', import.meta.url));
let dir = '';
let versionsFile = '';
let targetPackage = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ghost-ha-upgrade-command-'));
  versionsFile = join(dir, 'versions.txt');
  targetPackage = join(dir, 'package.json');
  await writeFile(versionsFile, '5.129.0\n5.130.6\n6.64.0\n6.66.0\n');
  await writeFile(
    targetPackage,
    JSON.stringify({ name: 'ghost', version: '6.66.0', engines: { node: '^22.23.1 || ^24.20.0' } }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runUpgrade(argv, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    // The registry is never asked in these tests: a call would fail the run.
    releases: {
      published: () => Promise.reject(new Error('the registry was asked')),
      enginesNode: () => Promise.reject(new Error('the registry was asked')),
    },
  });
  return { code, out, err };
}

const FILES = () => ['--versions-file', versionsFile, '--target-package', targetPackage];

/** A deployment's identifiers, as the operator passes them (without the report bucket). */
const DEPLOYMENT_ARGS = [
  '--region',
  'eu-west-1',
  '--cluster-id',
  'ghost-ha-data-cluster-abc',
  '--file-system-id',
  'fs-0123456789abcdef0',
];

describe('scripts/upgrade.sh preflight', () => {
  it('says GO and exits 0 for the supported path, an accepted Node.js and a valid theme', async () => {
    const result = await run(
      'preflight',
      '--from',
      '5.130.6',
      '--to',
      '6.66.0',
      '--theme',
      join(THEMES, 'plain'),
      '--image-node',
      '22.23.2',
      ...FILES(),
    );
    expect(result.err).toBe('');
    expect(result.out).toContain('Preflight of Ghost 5.130.6 → 6.66.0: GO');
    expect(result.code).toBe(0);
  });

  it('says NO-GO, names each fatal finding and exits 1', async () => {
    const result = await run(
      'preflight',
      '--from',
      '5.129.0',
      '--to',
      '6.66.0',
      '--theme',
      join(THEMES, 'uses-removed'),
      '--image-node',
      '20.19.0',
      ...FILES(),
    );
    expect(result.code).toBe(1);
    expect(result.out).toContain('NO-GO');
    expect(result.out).toMatch(/FATAL\s+path: Ghost 5.129.0 is not the latest 5.x: upgrade to 5.130.6 first/);
    expect(result.out).toMatch(/FATAL\s+node: the image's Node.js 20.19.0 is outside/);
    expect(result.out).toMatch(/FATAL\s+theme GS090-NO-INVALID-CONDITIONAL-ARGUMENTS: .* \(index.hbs\)/);
    expect(result.out).toContain('Nothing was changed.');
  });

  it('refuses a target package of another release than --to', async () => {
    const result = await run(
      'preflight',
      '--from',
      '6.64.0',
      '--to',
      '6.64.0',
      '--theme',
      join(THEMES, 'plain'),
      '--image-node',
      '22.23.2',
      ...FILES(),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain('is Ghost 6.66.0, not 6.64.0');
  });

  it('names the missing or wrong option with an example (exit 2)', async () => {
    expect(await run('preflight', '--from', '5.130.6', '--to', '6.66.0', '--image-node', '22.23.2')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--theme is required'),
    });
    expect(await run('plan', '--from', '5', '--to', '6.66.0')).toMatchObject({
      code: 2,
      err: expect.stringContaining("--from '5' is not a version, e.g. --from 5.130.6"),
    });
    expect(await run('upgrade')).toMatchObject({
      code: 2,
      err: expect.stringContaining('one of plan, preflight, apply, rollback'),
    });
    expect(await run('plan', '--from', '5.130.6', '--to', '6.66.0', '--force')).toMatchObject({ code: 2 });
  });
});

describe('scripts/upgrade.sh apply and rollback: the command line', () => {
  const deployment = [...DEPLOYMENT_ARGS, '--report-bucket', 'ghost-ha-backups-123456789012-eu-west-1'];
  const versions = ['--from', '5.130.6', '--to', '6.66.0'];
  const pinned = `ghost:6.66.0@sha256:${'a'.repeat(64)}`;

  it('needs the deployment, the site, an image pinned by digest and a go report; each refusal names an example', async () => {
    const url = ['--url', 'https://blog.example.com'];
    const report = ['--report', 's3://ghost-ha-backups-123456789012-eu-west-1/upgrade-reports/x.json'];
    expect(await run('apply', ...versions, '--image', pinned, ...report, ...url)).toMatchObject({
      code: 2,
      err: expect.stringContaining('apply works on the deployment: --region'),
    });
    expect(await run('apply', ...versions, '--image', pinned, ...report, ...deployment)).toMatchObject({
      code: 2,
      err: expect.stringContaining('--url is required, e.g. --url https://blog.example.com'),
    });
    expect(
      await run('apply', ...versions, '--image', pinned, ...report, ...deployment, '--url', 'file:///etc/passwd'),
    ).toMatchObject({ code: 2, err: expect.stringContaining("--url 'file:///etc/passwd' is not a site address") });
    // A tag can be moved to another build after the rehearsal; a digest cannot.
    expect(await run('apply', ...versions, '--image', 'ghost:6.66.0', ...report, ...deployment, ...url)).toMatchObject({
      code: 2,
      err: expect.stringContaining("--image 'ghost:6.66.0' is not pinned by digest, e.g. --image ghost:6.66.0@sha256:"),
    });
    expect(await run('apply', ...versions, '--image', pinned, ...deployment, ...url)).toMatchObject({
      code: 2,
      err: expect.stringContaining('--report is required'),
    });
    expect(await run('rollback', ...deployment, ...url, '--backup-point', '../../etc')).toMatchObject({
      code: 2,
      err: expect.stringContaining("--backup-point '../../etc' is not a backup point's label"),
    });
  });
});

describe('scripts/upgrade.sh plan', () => {
  it("lists each step's AWS calls when the deployment is named, and refuses half of its identifiers", async () => {
    const aws = DEPLOYMENT_ARGS;
    const full = await run(
      'plan',
      '--from',
      '5.130.6',
      '--to',
      '6.66.0',
      ...aws,
      '--report-bucket',
      'ghost-ha-backups-123456789012',
    );
    expect(full.code).toBe(0);
    expect(full.out).toMatch(
      /call: rds:RestoreDBClusterToPointInTime @eu-west-1 \{[^\n]*"RestoreType":"copy-on-write"/,
    );
    expect(full.out).toMatch(/call: rds:CreateDBClusterSnapshot @eu-west-1 /);
    expect(full.out).toMatch(
      /call: ecs:UpdateService @eu-west-1 \{"cluster":"ghost-ha","service":"ghost-ha-ghost","desiredCount":0\}/,
    );
    expect(full.out).toMatch(/call: rds:RestoreDBClusterFromSnapshot @eu-west-1 /);
    expect(await run('plan', '--from', '5.130.6', '--to', '6.66.0', ...aws)).toMatchObject({
      code: 2,
      err: expect.stringContaining('--report-bucket missing'),
    });
    expect(
      await run('plan', '--from', '5.130.6', '--to', '6.66.0', ...aws, '--report-bucket', 'B', '--region', 'Ireland'),
    ).toMatchObject({ code: 2, err: expect.stringContaining("--region 'Ireland' is not valid") });
  });

  it('prints the steps and the cost: writers get 503 and readers the mirror from the stop until traffic is back', async () => {
    const result = await run('plan', '--from', '5.130.6', '--to', '6.66.0');
    expect(result.code).toBe(0);
    const titles = [...result.out.matchAll(/^\d+\. .*\((\S+)\)$/gm)].map((m) => m[1]);
    expect(titles).toEqual([
      'preflight',
      'rehearse',
      'stop-ghost',
      'backup-point',
      'deploy-target',
      'smoke',
      'traffic-back',
    ]);
    expect(result.out).toMatch(/Cost: writers get 503 for about \d+ min; readers are served from the mirror/);
    expect(result.out).toContain('If it fails after the backup point: Rollback to 5.130.6');
  });

  it("reads the stop time from the app template and the migration time from a rehearsal's report", async () => {
    const app = loadTemplate('app');
    const stops = Object.values(app.Resources)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .flatMap((r) => (r.Properties?.ContainerDefinitions ?? []) as { StopTimeout?: number }[])
      .map((c) => c.StopTimeout ?? 30);
    const unmeasured = planUpgrade('5.130.6', '6.66.0');
    expect(unmeasured.steps.find((s) => s.id === 'stop-ghost')?.seconds).toBe(Math.max(...stops));
    const report: GoNoGoReport = {
      from: '5.130.6',
      to: '6.66.0',
      image: 'ghost:6.66.0',
      verdict: 'go',
      reasons: [],
      startedAt: '2026-12-06T22:00:00.000Z',
      finishedAt: '2026-12-06T22:05:00.000Z',
      preflight: [],
      rehearsal: { copyMs: 2_000, bootMs: 90_000, smoke: [], differences: [], copyRemoved: true, copyLabel: 'c' },
    };
    const measured = planUpgrade('5.130.6', '6.66.0', report);
    const deploy = (plan: typeof measured) => plan.steps.find((s) => s.id === 'deploy-target');
    expect((deploy(unmeasured)?.seconds ?? 0) - (deploy(measured)?.seconds ?? 0)).toBe(300 - 90);
    expect(deploy(measured)?.basis).toContain('measured on the copy');
    expect(writersDowntime(measured)).toBe(writersDowntime(unmeasured) - 210);
    const file = join(dir, 'report.json');
    await writeFile(file, JSON.stringify(report));
    expect((await run('plan', '--from', '5.130.6', '--to', '6.66.0', '--report', file)).out).toContain(
      'Rehearsal report: GO',
    );
    expect(await run('plan', '--from', '6.64.0', '--to', '6.66.0', '--report', file)).toMatchObject({
      code: 2,
      err: expect.stringContaining('is about 5.130.6 → 6.66.0, not 6.64.0 → 6.66.0'),
    });
  });
});
