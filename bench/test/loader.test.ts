import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../lib/built.js';

// `pnpm bench` measures idemkit as published (lib/loader.mjs): the built packages, untransformed.
// Plain tsx would load the sources and wrap every closure in keepNames helpers, slowing only idemkit.

const BENCH = fileURLToPath(new URL('..', import.meta.url));

describe('the bench loader', () => {
  // What `pnpm bench` does first: on a fresh clone (install, then test) the packages are not built yet.
  beforeAll(() => ensureBuilt(() => undefined), 240_000);

  it('resolves every @idemkit import to its built package and loads it as written, while TypeScript still runs', () => {
    const probe = [
      "import * as core from '@idemkit/core';",
      "import * as testing from '@idemkit/core/testing';",
      "import { redisLoader } from '@idemkit/eventbridge/redis';",
      "const resolved = ['@idemkit/core', '@idemkit/core/testing', '@idemkit/eventbridge/redis'].map((s) => import.meta.resolve(s));",
      "const { REPO_ROOT } = await import('./lib/env.ts');",
      'console.log(JSON.stringify({ resolved, wrapped: String(core.IdempotencyEngine).includes("__name"), testing: typeof testing.runStoreConformance, loader: typeof redisLoader, root: typeof REPO_ROOT }));',
    ].join('\n');
    const output = execFileSync(process.execPath, ['--import', './lib/loader.mjs', '--input-type=module', '-e', probe], { cwd: BENCH, encoding: 'utf8' });
    const seen = JSON.parse(output.trim().split('\n').at(-1)!) as { resolved: string[]; wrapped: boolean; testing: string; loader: string; root: string };
    expect(seen.resolved).toEqual([
      expect.stringMatching(/\/packages\/core\/dist\/index\.js$/),
      expect.stringMatching(/\/packages\/core\/dist\/testing\/index\.js$|\/packages\/core\/dist\/testing\.js$/),
      expect.stringMatching(/\/packages\/eventbridge\/dist\/.*redis.*\.js$/),
    ]);
    expect(seen).toMatchObject({ wrapped: false, testing: 'function', loader: 'function', root: 'string' });
  });
});
