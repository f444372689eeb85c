import { ConfigError } from '@idemkit/core';

/** Checks a preset's options: an object, with only the fields the preset knows (a typo never passes silently). */
export function checkPresetOptions(options: unknown, known: readonly string[], preset: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('(root)', `the ${preset} preset takes an options object like { windowMs: 1000 }`);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new ConfigError(
        name,
        `is not an option of the ${preset} preset; its options are ${known.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
  return options as Record<string, unknown>;
}
