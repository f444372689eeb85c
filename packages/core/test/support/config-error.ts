import { ConfigError } from '../../src/errors.js';

/** The ConfigError `build` throws; a failure naming what happened instead when it throws another error or none. */
export function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error('expected a ConfigError, but the input was accepted');
}
