import { readKeyField } from '../internal/path.js';
import { readEventTime } from '../internal/time.js';
import { checkKnownFields, checkOptions, checkPath, checkWindowMs } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKeyStrategy, KeyPart } from './types.js';

/** Options of {@link stateWindow}; every path is required. */
export interface StateWindowOptions {
  /** Path of what changes state, e.g. `detail.conversationId`. */
  entity: string;
  /** Path of the state, e.g. `detail.status`. */
  state: string;
  /** Path of the event time: an ISO-8601 string, or epoch ms or seconds. */
  time: string;
  /** Same entity and state closer than this many ms ⇒ one logical event; at most 7 days. */
  windowMs: number;
}

/** A {@link stateWindow} strategy; `windowMs` tells composites and the engine that its keys carry a window. */
export interface StateWindowStrategy extends DedupKeyStrategy {
  /** The window size every key of this strategy carries. */
  readonly windowMs: number;
}

/**
 * Same entity + same state + event times closer than `windowMs` ⇒ one logical event: catches a
 * source that emits one state change twice with two event ids (Genesys Cloud, within 500 ms).
 *
 * The window slides: the key holds entity and state only, and reports the event time as
 * `window.at`; the store compares it with the anchor of the last accepted event. Events at 999 ms
 * and 1009 ms are duplicates under a 500 ms window although `floor(t / 500)` differs, and the
 * same state `windowMs` or more later (a conversation `connected` again) is a new event.
 * @throws {@link ConfigError} naming the bad option.
 * @example
 * const strategy = stateWindow({
 *   entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500,
 * });
 * strategy.keyFor(event); // { key: 'stateWindow:c-1:accepted', window: { at: 1709806530000, windowMs: 500 }, … }
 */
export function stateWindow(options: StateWindowOptions): StateWindowStrategy {
  const record = checkOptions(options, '{ entity, state, time, windowMs }');
  checkKnownFields(record, ['entity', 'state', 'time', 'windowMs'], '', 'stateWindow');
  const entity = checkPath(record['entity'], 'entity');
  const state = checkPath(record['state'], 'state');
  const time = checkPath(record['time'], 'time');
  const windowMs = checkWindowMs(record['windowMs'], 'windowMs');
  return {
    name: 'stateWindow',
    windowMs,
    keyFor(event) {
      const parts: KeyPart[] = [
        { label: entity.source, value: readKeyField(event, entity) },
        { label: state.source, value: readKeyField(event, state) },
      ];
      return { key: formatKey('stateWindow', parts), parts, window: { at: readEventTime(event, time), windowMs } };
    },
  };
}
