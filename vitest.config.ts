import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const ROOT = dirname(fileURLToPath(import.meta.url));
const TEST_ROOTS = ['packages', 'testbed', 'services', 'functions', 'infra', 'scripts'];

/**
 * Test files and their file-level tags (`// @module-tag NAME`, Vitest's own syntax). A file that
 * starts processes (Ghost, MariaDB, moto, a service, a script) carries `integration`, or `ghost` when
 * it talks to Ghost; every other file is a unit test. The tiers are read from the files themselves,
 * so there is no list to keep up to date, and both are enforced: unit files cannot start a process,
 * and Ghost refuses to start for a file without `ghost`.
 */
function testFiles(): { path: string; tags: string[] }[] {
  return TEST_ROOTS.flatMap((root) =>
    readdirSync(join(ROOT, root), { recursive: true, encoding: 'utf8' })
      .filter((file) => /(^|\/)tests\/.*\.test\.ts$/.test(file) && !file.includes('node_modules'))
      .map((file) => {
        const path = relative(ROOT, join(ROOT, root, file));
        const tags = [...readFileSync(join(ROOT, path), 'utf8').matchAll(/^\/\/ @module-tag (\S+)$/gm)].map(
          (m) => m[1] ?? '',
        );
        return { path, tags };
      }),
  );
}

const files = testFiles();
const integration = files.filter((f) => f.tags.includes('integration') || f.tags.includes('ghost')).map((f) => f.path);
const unit = files.map((f) => f.path).filter((path) => !integration.includes(path));

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    tags: [
      { name: 'integration', description: 'starts real counterparts: MariaDB, moto, a service or script process' },
      { name: 'ghost', description: 'talks to a real Ghost; run on every tested Ghost release' },
    ],
    pool: 'forks',
    // Two cores: test files that boot Ghost or MariaDB run two at a time at most.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          setupFiles: ['testbed/vitest/unitTierGuard.ts', 'testbed/vitest/removeTemporaryDirectories.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          setupFiles: ['testbed/vitest/integrationTierGuard.ts', 'testbed/vitest/removeTemporaryDirectories.ts'],
        },
      },
    ],
  },
});
