// Module hooks for the bench (lib/loader.mjs): every `@idemkit/*` import resolves to the package's
// built output (packages/*/dist, by its package.json `exports`) and loads exactly as published.
// Under plain tsx it would resolve to the TypeScript sources (tsconfig paths) and be compiled with
// tsx's keepNames wrappers around every closure: work Powertools, loaded from node_modules, never pays.
import { readFile } from 'node:fs/promises';

const PACKAGES = new URL('../../packages/', import.meta.url);
const IDEMKIT = /^@idemkit\/([a-z-]+)(\/[a-z-]+)?$/;
const manifests = new Map();

async function manifestOf(name) {
  let manifest = manifests.get(name);
  if (manifest === undefined) {
    manifest = JSON.parse(await readFile(new URL(`${name}/package.json`, PACKAGES), 'utf8'));
    manifests.set(name, manifest);
  }
  return manifest;
}

export async function resolve(specifier, context, nextResolve) {
  const match = IDEMKIT.exec(specifier);
  if (match === null) return nextResolve(specifier, context);
  const [, name, subpath = ''] = match;
  const entry = (await manifestOf(name)).exports?.[`.${subpath}`];
  const target = typeof entry === 'string' ? entry : (entry?.import?.default ?? entry?.import ?? entry?.default);
  if (typeof target !== 'string') throw new Error(`bench: ${specifier} has no ESM export in packages/${name}/package.json`);
  return { url: new URL(target, new URL(`${name}/`, PACKAGES)).href, format: 'module', shortCircuit: true };
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith(PACKAGES.href) || !url.includes('/dist/')) return nextLoad(url, context);
  return { format: 'module', source: await readFile(new URL(url)), shortCircuit: true };
}
