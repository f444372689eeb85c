import type { AdapterModule, ModuleLoader } from '../store/load.js';

/** One store's packages, each behind an `import()` written out where a bundler can see it. */
export type BundledImports = Partial<Record<AdapterModule, () => Promise<unknown>>>;

/**
 * A loader that serves `imports` and nothing else. The packages are imported on first use, not
 * when the bundle loads: an ESM bundle lacking `require` then fails with a message that names the
 * banner it needs, instead of crashing the module. A package of another store is refused like a
 * missing module, so the URL opener answers with a `MissingAdapterError` that names its loader.
 */
export function bundledLoader(name: string, imports: BundledImports): ModuleLoader {
  const provides = Object.keys(imports);
  return async (specifier) => {
    const load = imports[specifier];
    if (load !== undefined) return load();
    throw Object.assign(new Error(`Cannot find module '${specifier}': ${name} provides only ${provides.join(' and ')}`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  };
}
