// Bundles a handler the way CDK's NodejsFunction and SAM's esbuild build do, with the settings the
// README's "Bundling" section documents, and runs the bundle in a plain Node process as Lambda would.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The banner an ESM bundle needs for CommonJS drivers (ioredis, pg), as the README documents it. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** A built bundle: its file, size, and the source files esbuild put in it. */
export interface Bundle {
  file: string;
  bytes: number;
  inputs: string[];
}

/** Options of {@link bundleHandler}. */
export interface BundleOptions {
  format: 'esm' | 'cjs';
  /** Where to write it: outside the repository, so no `node_modules` is in reach, as in /var/task. */
  outdir: string;
  /** @default the documented banner for ESM, none for CJS */
  banner?: string;
  minify?: boolean;
}

/**
 * Bundles `entry` (relative to the repository root). `@idemkit/*` resolve to the packages' sources
 * through the root tsconfig's paths; everything else comes from node_modules, as in a user's project.
 */
export async function bundleHandler(entry: string, options: BundleOptions): Promise<Bundle> {
  const name = entry.replace(/[^A-Za-z0-9]+/g, '-').replace(/-ts$/, '');
  const file = join(options.outdir, `${name}.${options.format === 'esm' ? 'mjs' : 'cjs'}`);
  const banner = options.banner ?? (options.format === 'esm' ? ESM_REQUIRE_BANNER : undefined);
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: options.format,
    // What CDK sets for ESM, so packages' ESM builds are preferred.
    ...(options.format === 'esm' ? { mainFields: ['module', 'main'] } : {}),
    ...(banner === undefined ? {} : { banner: { js: banner } }),
    // pg's optional native binding, which no Lambda has (CDK users list it in externalModules).
    external: ['pg-native'],
    minify: options.minify ?? false,
    tsconfig: join(root, 'tsconfig.json'),
    metafile: true,
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size, inputs: Object.keys(result.metafile.inputs) };
}

/** Which stores' code a bundle holds, judged by the files esbuild put in it. */
export function storesIn(inputs: readonly string[]): string[] {
  const patterns: Record<string, RegExp> = {
    redis: /packages\/redis\/|\/ioredis\//,
    postgres: /packages\/postgres\/|\/node_modules\/pg(-[a-z]+)?\//,
    dynamodb: /packages\/dynamodb\/|\/@aws-sdk\/client-dynamodb\//,
  };
  return Object.keys(patterns).filter((store) => inputs.some((input) => patterns[store]!.test(input)));
}

/** A fresh directory under the OS temp dir for bundles; remove it with the returned function. */
export function bundleDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'idemkit-bundle-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What one delivery gave: the handler's result, or the message of what it threw. */
export type Delivery = { result: unknown } | { error: string };

/** What a run of a bundle gave: one entry per delivery, or why the bundle did not even load. */
export interface Invocations {
  deliveries: Delivery[];
  loadError?: string;
}

/**
 * Loads the bundle in a new Node process, as Lambda's runtime does (`import` for ESM, `require`
 * for CJS), and calls its `handler` export once per event, in order, with a Lambda-like context.
 */
export async function invokeBundle(
  bundle: Bundle,
  events: readonly unknown[],
  env: Record<string, string>,
  functionName = 'bundled-handler',
): Promise<Invocations> {
  const runner = fileURLToPath(new URL('./invoke.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [runner, bundle.file, JSON.stringify({ events, functionName })], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: tmpdir(),
    timeout: 60_000,
  });
  const line = stdout.split('\n').find((text) => text.startsWith('{"deliveries":'));
  if (line === undefined) throw new Error(`the bundle printed no deliveries:\n${stdout}`);
  return JSON.parse(line) as Invocations;
}
