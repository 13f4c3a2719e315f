import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', 'node_modules/**'] } },
      // The built executables (test/e2e/global-setup.ts builds them once per run, and only when an e2e file is selected).
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
      },
    ],
  },
});
