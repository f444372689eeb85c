import { formatKey, type DedupKeyStrategy } from '@idemkit/core';

/** A preset strategy: its keys start with the preset's name, and it declares its window. */
export interface PresetStrategy<TEvent = unknown> extends DedupKeyStrategy<TEvent> {
  /** Events of one key closer than this many ms are one logical event. */
  readonly windowMs: number;
}

/**
 * The same strategy under the preset's name, so keys and logs read `genesysCloud:…`
 * instead of `composite:…`. Parts and window are the inner strategy's, unchanged.
 */
export function renamed<TEvent>(name: string, inner: DedupKeyStrategy<TEvent>, windowMs: number): PresetStrategy<TEvent> {
  return {
    name,
    windowMs,
    keyFor(event) {
      const key = inner.keyFor(event);
      return { ...key, key: formatKey(name, key.parts) };
    },
  };
}

/** The envelope id of an event, for error messages. */
export function envelopeId(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Reads a nested property without throwing on missing parents. */
export function read(event: unknown, path: readonly string[]): unknown {
  let current = event;
  for (const step of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
