import { anyOf, IdempotencyEngine, MemoryStore, type DedupKeyStrategy } from '@idemkit/core';
import { resolveStrategy } from '@idemkit/eventbridge';
import type { GeneratedCapture } from './captures.js';

/**
 * The strategy a report's config describes, presets included at any depth (the wrapper's
 * `IDEMKIT_STRATEGY` resolves presets only at the top, so `anyOf` with a preset is code only).
 */
export function strategyOf(config: unknown): DedupKeyStrategy {
  if (typeof config === 'object' && config !== null && (config as { strategy?: unknown }).strategy === 'anyOf') {
    return anyOf((config as { of: unknown[] }).of.map(strategyOf));
  }
  return resolveStrategy(config);
}

/**
 * Replays a capture through the real engine in arrival order (as production sees it), the store's
 * clock at the latest event time seen, and counts handler runs per logical event.
 */
export async function runsPerLogicalEvent(capture: GeneratedCapture, strategy: DedupKeyStrategy, timeOf: (event: Record<string, unknown>) => number): Promise<Map<number, number>> {
  let now = 0;
  const engine = new IdempotencyEngine({ store: new MemoryStore({ clock: () => now, maxEntries: 1_000_000 }), strategy, storeResult: false });
  const runs = new Map<number, number>();
  for (const event of capture.events) {
    now = Math.max(now, timeOf(event));
    const logical = capture.logicalOf.get(event['id'] as string)!;
    await engine.run(event, () => {
      runs.set(logical, (runs.get(logical) ?? 0) + 1);
      return null;
    });
  }
  return runs;
}

/** Logical events that did not run exactly once. */
export function notOnce(capture: GeneratedCapture, runs: Map<number, number>): { logical: number; runs: number }[] {
  const wrong: { logical: number; runs: number }[] = [];
  for (let logical = 1; logical <= capture.logicalEvents; logical++) {
    const count = runs.get(logical) ?? 0;
    if (count !== 1) wrong.push({ logical, runs: count });
  }
  return wrong;
}

/** Event time of a generated Genesys Cloud event. */
export const genesysTime = (event: Record<string, unknown>) => Date.parse(((event['detail'] as Record<string, Record<string, string>>)['eventBody']!)['eventTime']!);
/** Event time of a generated order event. */
export const orderTime = (event: Record<string, unknown>) => (event['detail'] as { updatedAt: number }).updatedAt;
