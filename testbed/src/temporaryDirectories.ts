import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created = new Set<string>();

/**
 * A new directory under the temp dir that `removeTemporaryDirectories` deletes: the Vitest setup
 * calls it after every test file, so a helper that hands out directories cannot leak them.
 */
export async function makeTemporaryDirectory(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

export async function removeTemporaryDirectories(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
