import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root, found from this file's place in it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const resolved = new Map<string, string>();

/**
 * Runs one of the project's install scripts (idempotent; cached outside the repository) and returns
 * the path it prints. The test command has run them already, so this is instant there; it makes a
 * single test file runnable on its own too.
 */
function installed(script: string, args: readonly string[] = []): string {
  const key = [script, ...args].join(' ');
  const known = resolved.get(key);
  if (known) return known;
  const output = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'lib', script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  });
  const path = output.trim().split('\n').at(-1) ?? '';
  resolved.set(key, path);
  return path;
}

/** The default Ghost version, or `GHOST_VERSION` (e.g. a 6.x release, which runs on Node 22). */
export function ghostVersion(): string {
  return process.env.GHOST_VERSION ?? '5.130.6';
}

export function ghostInstallDir(version = ghostVersion()): string {
  return installed('install-ghost.sh', [version]);
}

/** The `node` binary Ghost of this version runs on: this one for 5.x, Node 22 for 6.x. */
export function nodeBinaryFor(version = ghostVersion()): string {
  const major = Number(version.split('.')[0]);
  if (major < 6) return process.execPath;
  return join(installed('install-node.sh', [process.env.GHOST_NODE22_VERSION ?? '22.23.3']), 'node');
}

/** The bin directory of the venv that holds moto_server, cfn-lint and checkov. */
export function pythonToolsBin(): string {
  return installed('install-python-tools.sh');
}

/** The bin directory holding mariadbd and mariadb-install-db (installed from Debian if missing). */
export function mariadbBin(): string {
  return installed('install-mariadb.sh');
}
