import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { majorOf, PINNED_VERSIONS, REPO_ROOT } from '@ghost-ha/testbed';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../../infra/src/parseTemplate.js';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const NODE_MAJOR = majorOf(PINNED_VERSIONS.node);

/** Files of the repository (not dependencies, builds or git's own), relative to its root. */
function repositoryFiles(dir = ''): string[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return IGNORED.has(entry.name) ? [] : repositoryFiles(path);
    return entry.isFile() && entry.name !== 'package-lock.json' ? [path] : [];
  });
}

const IGNORED = new Set(['node_modules', 'dist', '.git', '.test-results']);

describe('versions.json, the one place the Ghost and Node.js versions are written', () => {
  it('holds exact versions', () => {
    for (const [key, version] of Object.entries(PINNED_VERSIONS)) expect(version, key).toMatch(/^\d+\.\d+\.\d+$/);
    expect(majorOf(PINNED_VERSIONS.ghostCompatibility)).toBeLessThan(majorOf(PINNED_VERSIONS.ghost));
  });

  it("is the app template's default Ghost image", () => {
    expect(loadTemplate('app').Parameters?.GhostImage?.Default).toBe(`ghost:${PINNED_VERSIONS.ghost}`);
  });

  it('names the Lambda runtime of every function', () => {
    const functions = Object.entries(loadTemplate('functions').Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, resource] of functions) expect(resource.Properties?.Runtime, id).toBe(`nodejs${NODE_MAJOR}.x`);
  });

  it("is the Node.js of the root package's engines and type definitions", () => {
    const root = JSON.parse(read('package.json'));
    expect(root.engines.node).toMatch(new RegExp(`^\\^${NODE_MAJOR}\\.`));
    expect(root.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${NODE_MAJOR}\\.`));
  });

  it("is the README's table of tested versions", () => {
    const readme = read('README.md');
    for (const [key, version] of Object.entries(PINNED_VERSIONS)) {
      expect(readme, key).toMatch(new RegExp(`\\| \`${key}\` \\| ${version.replaceAll('.', '\\.')} \\|`));
    }
  });

  it('is the only file that writes the pinned Ghost and Node.js versions, besides the checked copies above', () => {
    const checkedCopies = [
      'versions.json',
      'README.md',
      'infra/cloudformation/app.yaml',
      // The base image pinned by digest names its Node.js (infra/tests/dockerfiles.test.ts checks it).
      'services/cache-invalidator/Dockerfile',
      'services/health-sidecar/Dockerfile',
      // The upgrade's figures, measured on the pinned releases: a new pin means measuring again.
      'infra/src/upgrade/README.md',
    ];
    const pinned = [PINNED_VERSIONS.ghost, PINNED_VERSIONS.node, PINNED_VERSIONS.nodeForGhost];
    const writers = repositoryFiles().filter((path) => {
      const text = read(path);
      return pinned.some((version) => text.includes(version));
    });
    expect(writers.sort()).toEqual(checkedCopies.sort());
  });
});
