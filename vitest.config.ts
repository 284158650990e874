import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: [
      'packages/*/tests/**/*.test.ts',
      'testbed/tests/**/*.test.ts',
      'services/*/tests/**/*.test.ts',
      'functions/*/tests/**/*.test.ts',
      'infra/tests/**/*.test.ts',
      'scripts/tests/**/*.test.ts',
    ],
    pool: 'forks',
    // Two cores: test files that boot Ghost or MariaDB run two at a time at most.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
