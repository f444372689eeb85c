import { KeyExtractionError, stateWindow } from '@idemkit/core';

/** Reads one event's time in epoch ms, or `undefined` when the event has none at that path. */
export type TimeReader = (event: unknown) => number | undefined;

/**
 * Reads the time at `path` exactly as the engine's windowed strategies read it (ISO-8601 text,
 * epoch ms or seconds): through a `stateWindow` keyed on the time itself, since core keeps its
 * time parser internal and a second parser here could disagree with the engine on an edge.
 */
export function timeReader(path: string): TimeReader {
  const strategy = stateWindow({ entity: path, state: path, time: path, windowMs: 1 });
  return (event) => {
    try {
      return strategy.keyFor(event).window?.at;
    } catch (error) {
      if (error instanceof KeyExtractionError) return undefined;
      throw error;
    }
  };
}

/** Epoch ms of 2000-01-01 and 2100-01-01: a "time" outside them is a counter or an id, not an event time. */
export const PLAUSIBLE_TIMES = { from: Date.UTC(2000, 0, 1), to: Date.UTC(2100, 0, 1) } as const;
