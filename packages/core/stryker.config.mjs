// Mutation testing of core (`pnpm test:mutation`, not run in CI: it takes tens of minutes).
// Stryker changes one piece of the engine, the strategies or the store rules at a time and runs
// the core tests that cover it; a mutant no test notices is a bug the suite would let through.
// The score and each surviving mutant are written up in docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.mjs' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The engine, the key strategies and the store rules every adapter translates. MemoryStore is
  // checked by the conformance suite and the ordering guard by its own properties; mutating them
  // too doubles a run that already takes most of an hour on two cores.
  mutate: [
    'src/engine/**/*.ts',
    'src/strategies/**/*.ts',
    'src/store/claim-rules.ts',
    'src/store/version-rules.ts',
    'src/store/validate.ts',
    // Types only: nothing to mutate.
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
  // Static mutants (module-level constants) run the whole suite each, about half the run time;
  // the constants that matter (attempt counts, limits) have tests of their own that pin them.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '../../.tmp/mutation/index.html' },
  jsonReporter: { fileName: '../../.tmp/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
};
