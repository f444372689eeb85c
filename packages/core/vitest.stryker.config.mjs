import { defineConfig } from 'vitest/config';

// The test run Stryker repeats for each mutant (`pnpm test:mutation`): core's own tests only,
// which import core by relative path, so the sandbox copy of packages/core is all they need.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
