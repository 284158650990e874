// @module-tag integration
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CONFIG_EXIT_CODE } from '@ghost-ha/core';
import { freePort, makeTemporaryDirectory, REPO_ROOT } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs an entry point from source with exactly `env` (plus PATH), as its container or an operator would. */
function runEntryPoint(
  path: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', path, ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const SIDECAR = {
  name: 'health-sidecar',
  path: 'services/health-sidecar/src/main.ts',
  port: 'HEALTH_PORT',
  env: {
    database__connection__host: '127.0.0.1',
    database__connection__user: 'ghost',
    database__connection__password: 'not-echoed',
    database__connection__database: 'ghost',
  },
};
const INVALIDATOR_ENV = {
  SITE_URL: 'https://example.com',
  CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
  WEBHOOK_SECRET: 'not-echoed',
};
const INVALIDATOR = { name: 'cache-invalidator', path: 'services/cache-invalidator/src/main.ts', port: 'PORT' };
const ENTRY_POINTS = [
  SIDECAR,
  { ...INVALIDATOR, env: INVALIDATOR_ENV },
  {
    name: 'register-webhooks',
    path: 'services/cache-invalidator/src/registerWebhooks.ts',
    port: 'PORT',
    env: INVALIDATOR_ENV,
  },
  { name: 'build-mirror', path: 'services/cache-invalidator/src/buildMirror.ts', port: 'PORT', env: INVALIDATOR_ENV },
];

describe('every entry point fails the same way', () => {
  it.each(ENTRY_POINTS)(
    '$name: a bad setting → one stderr line naming it, a fatal log line with the problem, exit 78',
    async ({ name, path, port, env }) => {
      const { code, stdout, stderr } = await runEntryPoint(path, { ...env, [port]: '80a' });
      const problem = new RegExp(`^'${port}' is not a whole number \\(got '80a'\\)\\. E\\.g\\. ${port}=\\d+$`);
      expect(code).toBe(CONFIG_EXIT_CODE);
      const [line, ...others] = stderr.split('\n').filter(Boolean);
      expect(others).toEqual([]);
      expect(line?.startsWith(`${name}: Invalid configuration: '${port}'`)).toBe(true);
      expect(line?.slice(`${name}: Invalid configuration: `.length)).toMatch(problem);
      const fatal = jsonLines(stdout).filter((entry) => entry.level === 'fatal');
      expect(fatal).toEqual([
        expect.objectContaining({ msg: 'invalid configuration', problems: [expect.stringMatching(problem)] }),
      ]);
      expect(`${stdout}${stderr}`).not.toContain('not-echoed');
    },
  );

  it('build-mirror: an unknown option is a usage error like a bad setting (78), naming the option', async () => {
    const { code, stderr } = await runEntryPoint(
      'services/cache-invalidator/src/buildMirror.ts',
      { ...INVALIDATOR_ENV, MIRROR_BUCKET: 'ghost-ha-mirror-123456789012-eu-central-1' },
      ['--concurency', '4'],
    );
    expect(code).toBe(CONFIG_EXIT_CODE);
    expect(stderr.trim()).toMatch(
      /^build-mirror: Invalid configuration: .*'--concurency'.*E\.g\. build-mirror --concurrency 4$/,
    );
  });

  describe('a start-up failure that is not configuration → one stderr line, the summary logged, no stack, exit 1', () => {
    let blocker: Server;
    let blockedPort = 0;

    beforeAll(async () => {
      blockedPort = await freePort();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(blockedPort, '0.0.0.0', resolve));
    });

    afterAll(() => {
      blocker?.close();
    });

    async function expectStartUpFailure(name: string, path: string, env: Record<string, string>, code: string) {
      const result = await runEntryPoint(path, env);
      expect(result.code).toBe(1);
      const [line, ...others] = result.stderr.split('\n').filter(Boolean);
      expect(others).toEqual([]);
      expect(line).toMatch(new RegExp(`^${name}: start-up failed: .*${code}`));
      const fatal = jsonLines(result.stdout).filter((entry) => entry.level === 'fatal');
      expect(fatal).toEqual([
        expect.objectContaining({ msg: 'start-up failed', error: expect.objectContaining({ code }) }),
      ]);
      expect(JSON.stringify(fatal)).not.toContain('stack');
    }

    it('health-sidecar: its health port is taken', async () => {
      await expectStartUpFailure(
        SIDECAR.name,
        SIDECAR.path,
        { ...SIDECAR.env, HEALTH_PORT: String(blockedPort), GATE_PORT: '0' },
        'EADDRINUSE',
      );
    });

    it('cache-invalidator: its journal directory cannot be made', async () => {
      const file = join(await makeTemporaryDirectory('entry-points-'), 'a-file');
      await writeFile(file, '');
      await expectStartUpFailure(
        INVALIDATOR.name,
        INVALIDATOR.path,
        { ...INVALIDATOR_ENV, PORT: '0', JOURNAL_DIR: join(file, 'journal') },
        'ENOTDIR',
      );
    });
  });
});
