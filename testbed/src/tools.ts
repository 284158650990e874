import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PINNED_VERSIONS } from './pinnedVersions.js';

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

/** `GHOST_VERSION`, or the pinned release ("ghost" in versions.json). */
export function ghostVersion(): string {
  return process.env.GHOST_VERSION ?? PINNED_VERSIONS.ghost;
}

export function ghostInstallDir(version = ghostVersion()): string {
  return installed('install-ghost.sh', [version]);
}

/**
 * The `node` binary Ghost runs on: "nodeForGhost" in versions.json, which every tested Ghost's
 * engines accept (install-ghost.sh checks that and builds Ghost's native modules for it).
 */
export function ghostNodeBinary(): string {
  return join(installed('install-node.sh', [PINNED_VERSIONS.nodeForGhost]), 'node');
}

/** The bin directory of the venv that holds moto_server, cfn-lint and checkov. */
export function pythonToolsBin(): string {
  return installed('install-python-tools.sh');
}

/** The bin directory holding mariadbd and mariadb-install-db (installed from Debian if missing). */
export function mariadbBin(): string {
  return installed('install-mariadb.sh');
}

/** The Chromium binary the browser tests drive (Debian's chromium, installed if missing). */
export function chromiumBinary(): string {
  return installed('install-chromium.sh');
}
