import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './env.js';

// Resolved with require, not import.meta.resolve: vitest runs this file without the latter.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Forks a TypeScript module in a new Node process through tsx, from the repo root with the root
 * tsconfig, so `@idemkit/*` resolves to package sources as it does for `tsx bench/…`.
 * The child gets an IPC channel (`process.send`); `env` is added to this process's environment.
 */
export function forkTs(modulePath: string, args: string[], options: ForkOptions & { nodeArgs?: string[] } = {}): ChildProcess {
  const { nodeArgs = [], env = {}, ...rest } = options;
  return fork(modulePath, args, {
    ...rest,
    cwd: REPO_ROOT,
    execArgv: [...nodeArgs, '--import', TSX_LOADER],
    env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json'), ...env },
  });
}
