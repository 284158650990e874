import { join } from 'node:path';
import { ManagedProcess, REPO_ROOT } from '@ghost-ha/testbed';
import { newJournalDir } from './startInvalidator.js';

/**
 * `node src/main.ts` as a separate process, started with exactly `env` (plus PATH), as the
 * container runs it: for kill -9, SIGTERM and start-up behaviour. The caller stops or kills it.
 */
export async function startServiceProcess(name: string, env: Record<string, string>): Promise<ManagedProcess> {
  const child = new ManagedProcess({
    name,
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'services/cache-invalidator/src/main.ts')],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    logFile: join(await newJournalDir(), `${name}.log`),
  });
  child.start();
  return child;
}
