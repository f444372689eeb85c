// Mutation testing of core (`pnpm test:mutation`, not run in CI: it takes tens of minutes).
// Stryker changes one piece of the engine, the strategies or the store rules at a time and runs
// the core tests that cover it; a mutant no test notices is a bug the suite would let through.
// The score and each surviving mutant are written up in docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.mjs' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/engine/**/*.ts',
    'src/strategies/**/*.ts',
    'src/store/**/*.ts',
    'src/ordering/**/*.ts',
    // Types only: nothing to mutate.
    '!src/store/types.ts',
    '!src/strategies/types.ts',
  ],
  // The sandboxes go to packages/core/.stryker-tmp (git-ignored): at that depth Stryker's rewrite
  // of the tsconfig `extends` still finds ../../tsconfig.base.json, and node_modules resolve as in the tree.
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage'],
  concurrency: 2,
  // Generous: on a busy 2-core machine a slow run must not pass for a mutant caught by timing out.
  timeoutMS: 15_000,
  timeoutFactor: 2,
  // A re-run tests only the mutants whose code or covering tests changed; `--force` re-tests all.
  incremental: true,
  incrementalFile: '../../.tmp/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '../../.tmp/mutation/index.html' },
  jsonReporter: { fileName: '../../.tmp/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
};
