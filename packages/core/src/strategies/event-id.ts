import { parsePath, readKeyField } from '../internal/path.js';
import { checkKnownFields, checkOptions, checkPath } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKeyStrategy, KeyPart } from './types.js';

/** Options of {@link eventId}. */
export interface EventIdOptions {
  /**
   * Path of the id in the event: a non-empty string or a finite number.
   * @default 'id' (the EventBridge envelope id)
   */
  path?: string;
}

/**
 * Same id ⇒ same event. Catches redeliveries of one event, not logical duplicates that the
 * source sent twice with fresh ids (use {@link stateWindow} or {@link contentHash} for those).
 * @throws {@link ConfigError} when `path` is not a valid path.
 * @example
 * const strategy = eventId({ path: 'detail.eventId' });
 * strategy.keyFor({ detail: { eventId: 'e-1' } }).key; // 'eventId:e-1'
 */
export function eventId(options: EventIdOptions = {}): DedupKeyStrategy {
  const record = checkOptions(options, '{ path: "detail.eventId" }');
  checkKnownFields(record, ['path'], '', 'eventId');
  const path = record['path'] === undefined ? parsePath('id') : checkPath(record['path'], 'path');
  return {
    name: 'eventId',
    keyFor(event) {
      const parts: KeyPart[] = [{ label: path.source, value: readKeyField(event, path) }];
      return { key: formatKey('eventId', parts), parts };
    },
  };
}
