import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineWorkspace } from 'vitest/config';

// The one place that lists the test projects; vitest.config.ts passes them to vitest as `test.projects`.
// Tests import every @idemkit package from source, so one run never mixes src and dist copies of a class.
const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const alias = [
  { find: /^@idemkit\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
  { find: /^@idemkit\/core$/, replacement: src('./packages/core/src/index.ts') },
  { find: /^@idemkit\/redis$/, replacement: src('./packages/redis/src/index.ts') },
  { find: /^@idemkit\/dynamodb$/, replacement: src('./packages/dynamodb/src/index.ts') },
  { find: /^@idemkit\/postgres$/, replacement: src('./packages/postgres/src/index.ts') },
  { find: /^@idemkit\/eventbridge$/, replacement: src('./packages/eventbridge/src/index.ts') },
  { find: /^@idemkit\/eventbridge\/(redis|postgres|dynamodb)$/, replacement: src('./packages/eventbridge/src/loaders/$1.ts') },
];

// A package that needs a server started for its tests (a Redis Cluster, DynamoDB Local)
// does it in test/global-setup.ts; it is picked up here so the project list stays in one place.
const project = (name: string, root: string, extra: Record<string, unknown> = {}, drivers: typeof alias = []) => {
  const globalSetup = src(`${root}/test/global-setup.ts`);
  return {
    resolve: { alias: [...drivers, ...alias] },
    test: {
      name,
      root,
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 120_000,
      ...(existsSync(globalSetup) ? { globalSetup } : {}),
      ...extra,
    },
  };
};

export default defineWorkspace([
  project('core', './packages/core'),
  project('redis', './packages/redis'),
  project('postgres', './packages/postgres'),
  project('dynamodb', './packages/dynamodb'),
  project('eventbridge', './packages/eventbridge'),
  project('cli', './packages/cli'),
  project('examples', './examples', { include: ['*/test/**/*.test.ts'] }),
  project('faults', './bench'),
  // Driver majors: every major a peer range admits runs the adapter's conformance suite (and the
  // store-URL tests): ioredis 5 above and 6 here, through an npm-alias devDependency swapped in
  // for `ioredis`. pg (8) and @aws-sdk/client-dynamodb (3) have one supported major each, run above.
  ...driverMajor('ioredis', 'ioredis6', [
    ['redis', './packages/redis', ['test/standalone.conformance.test.ts', 'test/cluster.conformance.test.ts']],
    ['eventbridge', './packages/eventbridge', ['test/store-url.test.ts', 'test/store-loaders.test.ts', 'test/driver-major.test.ts']],
  ]),
]);

/** The projects that run `include` with `driver` (and its subpaths) resolved to the npm alias `aliased`. */
function driverMajor(driver: string, aliased: string, targets: Array<[string, string, string[]]>) {
  const swap = [{ find: new RegExp(`^${driver}(?=/|$)`), replacement: aliased }];
  const env = { IDEMKIT_TEST_DRIVER: aliased }; // test/driver-major.test.ts checks the swap took
  return targets.map(([name, root, include]) => project(`${name}:${aliased}`, root, { include, env }, swap));
}
