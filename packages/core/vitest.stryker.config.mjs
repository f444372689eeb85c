import { configDefaults, defineConfig } from 'vitest/config';

// The test run Stryker repeats for each mutant (`pnpm test:mutation`): core's own tests only,
// which import core by relative path, so the sandbox copy of packages/core is all they need.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stryker runs tests in worker threads, whose 4 MB stacks let JSON.stringify of a 10,000-deep
    // event succeed; this file asserts that it overflows (true on the main thread), so it cannot
    // pass there. It tests src/internal (not mutated); content-hash is covered by the strategy tests.
    exclude: [...configDefaults.exclude, 'test/canonical-json.test.ts'],
    testTimeout: 30_000,
  },
});
