// @module-tag integration
// scripts/upgrade.sh as an operator runs it: a process, from any directory, with relative paths.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTemporaryDirectory, REPO_ROOT } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';

function upgradeSh(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'bash',
      [join(REPO_ROOT, 'scripts', 'upgrade.sh'), ...args],
      { cwd, timeout: 120_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('scripts/upgrade.sh', () => {
  it('plans from the repository root', async () => {
    const result = await upgradeSh(REPO_ROOT, 'plan', '--from', '5.130.6', '--to', '6.66.0');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Cost: writers get 503 for about \d+ min/m);
  });

  it("reads file options relative to the caller's directory, and exits 1 on a no-go", async () => {
    const dir = await makeTemporaryDirectory('ghost-ha-upgrade-script-');
    await writeFile(join(dir, 'versions.txt'), '5.130.6\n6.66.0\n');
    await writeFile(
      join(dir, 'ghost.json'),
      JSON.stringify({ version: '6.66.0', engines: { node: '^22.23.1 || ^24.20.0' } }),
    );
    const fixtures = join(REPO_ROOT, 'infra', 'tests', 'fixtures');
    const args = ['--from', '5.130.6', '--to', '6.66.0', '--image-node', '22.23.2'];
    const files = ['--versions-file', join(dir, 'versions.txt'), '--target-package', join(dir, 'ghost.json')];
    const noGo = await upgradeSh(fixtures, 'preflight', ...args, '--theme', 'themes/uses-removed', ...files);
    expect(noGo.code).toBe(1);
    expect(noGo.stdout).toMatch(/FATAL\s+theme GS090-NO-INVALID-CONDITIONAL-ARGUMENTS/);
    const go = await upgradeSh(fixtures, 'preflight', ...args, '--theme', './themes/plain', ...files);
    expect(go.stdout).toContain('GO');
    expect(go.code).toBe(0);
  });

  it('exits 2 naming a wrong option', async () => {
    const result = await upgradeSh(REPO_ROOT, 'plan', '--from', '5.130.6', '--to', 'latest');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--to 'latest' is not a version");
  });
});
