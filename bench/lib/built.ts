import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './env.js';

// The benchmark measures idemkit as users install it, the built packages (lib/loader.mjs). A
// stale build would measure old code under the current commit's name, so it is rebuilt first.

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The packages whose `dist` is missing or older than their `src`. */
export function stalePackages(): string[] {
  const packages = join(REPO_ROOT, 'packages');
  return readdirSync(packages).filter((name) => {
    const src = join(packages, name, 'src');
    const dist = join(packages, name, 'dist');
    if (!existsSync(src)) return false;
    return !existsSync(dist) || newestMtime(dist) < newestMtime(src);
  });
}

/** Builds the packages when any build is stale; `log` says so. */
export function ensureBuilt(log: (line: string) => void): void {
  const stale = stalePackages();
  if (stale.length === 0) return;
  log(`building the packages first (stale: ${stale.join(', ')})…`);
  execFileSync('npx', ['--yes', 'pnpm@10', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
