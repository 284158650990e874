import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@ghost-ha/testbed';

/** Runs the registration command as an operator would, returning its exit code and JSON log lines. */
export function runRegisterCommand(
  env: Record<string, string>,
): Promise<{ code: number; lines: Record<string, unknown>[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'services/cache-invalidator/src/registerWebhooks.ts')],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout) => {
        const lines = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, lines });
      },
    );
  });
}
