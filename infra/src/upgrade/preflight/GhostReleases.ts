import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What preflight needs to know about Ghost's releases. */
export interface GhostReleases {
  /** Every published version. */
  published(): Promise<string[]>;
  /** The `engines.node` of one release's package.json. */
  enginesNode(version: string): Promise<string | undefined>;
}

/** The npm registry, through the npm client (its configured registry, proxy and cache). */
export function npmGhostReleases(npm = 'npm'): GhostReleases {
  const view = async (args: string[]): Promise<unknown> => {
    const { stdout } = await run(npm, ['view', ...args, '--json'], { timeout: 60_000, maxBuffer: 16 * 2 ** 20 });
    return stdout.trim() ? JSON.parse(stdout) : undefined;
  };
  return {
    async published() {
      const versions = await view(['ghost', 'versions']);
      return Array.isArray(versions) ? versions.filter((v): v is string => typeof v === 'string') : [];
    },
    async enginesNode(version) {
      const engines = await view([`ghost@${version}`, 'engines']);
      const node = (engines as { node?: unknown } | undefined)?.node;
      return typeof node === 'string' ? node : undefined;
    },
  };
}

/**
 * Releases from files: a list of versions (a JSON array, or one a line) and the target's own
 * package.json (e.g. of an installed release), for a machine that does not reach the registry.
 */
export function fileGhostReleases(versionsFile: string, targetPackageJson: string): GhostReleases {
  return {
    async published() {
      const text = (await readFile(versionsFile, 'utf8')).trim();
      const list: unknown = text.startsWith('[') ? JSON.parse(text) : text.split(/\s+/);
      return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string' && v !== '') : [];
    },
    async enginesNode(version) {
      const manifest = JSON.parse(await readFile(targetPackageJson, 'utf8')) as {
        version?: string;
        engines?: { node?: string };
      };
      if (manifest.version !== version) {
        throw new Error(`${targetPackageJson} is Ghost ${manifest.version ?? '(no version)'}, not ${version}`);
      }
      return manifest.engines?.node;
    },
  };
}
