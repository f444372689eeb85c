import type { Options } from 'tsup';

/**
 * The one build recipe every package spreads: ESM + CJS with matching `.d.ts`/`.d.cts`,
 * targeting the oldest Lambda Node runtime we support.
 */
export function packageBuild(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
