import { ConfigError } from '../errors.js';
import { checkNoAnyOf } from './any-of.js';
import { checkChildren, checkKnownFields, checkOptions, windowMsOf } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKey, DedupKeyStrategy, KeyPart, KeyWindow } from './types.js';

/** Options of {@link composite}. */
export interface CompositeOptions<TEvent = unknown> {
  /** The strategies whose parts make the key, in order; at most one may be windowed. */
  of: readonly DedupKeyStrategy<TEvent>[];
}

/** A {@link composite} strategy; `windowMs` is present when one child is windowed. */
export interface CompositeStrategy<TEvent = unknown> extends DedupKeyStrategy<TEvent> {
  /** The window size of the windowed child, if there is one. */
  readonly windowMs?: number;
}

/**
 * A key made of several strategies' parts, e.g. a tenant id plus a state window.
 * Part labels are prefixed by the child's name (`eventId:detail.tenant`); the one windowed
 * child's window becomes the key's window.
 * @throws {@link ConfigError} on field `of` when it is empty, holds a non-strategy, or more than one windowed strategy.
 * @example
 * const strategy = composite({ of: [eventId({ path: 'detail.tenantId' }), stateWindow({ … })] });
 * strategy.keyFor(event).key; // 'composite:t-9:c-1:accepted'
 */
export function composite<TEvent = unknown>(options: CompositeOptions<TEvent>): CompositeStrategy<TEvent> {
  const record = checkOptions(options, '{ of: [eventId(), stateWindow({ … })] }');
  checkKnownFields(record, ['of'], '', 'composite');
  const children = checkChildren(record['of'], 'of') as DedupKeyStrategy<TEvent>[];
  checkNoAnyOf(children, 'of');
  const windowed = children.map(windowMsOf).find((windowMs) => windowMs !== undefined);
  return {
    name: 'composite',
    ...(windowed === undefined ? {} : { windowMs: windowed }),
    keyFor(event) {
      const parts: KeyPart[] = [];
      let window: KeyWindow | undefined;
      let windowFrom = -1;
      for (const [index, child] of children.entries()) {
        const childKey = child.keyFor(event);
        for (const part of childKey.parts) parts.push({ label: `${child.name}:${part.label}`, value: part.value });
        if (childKey.window === undefined) continue;
        // Hand-written children cannot be checked up front: they reveal a window only here.
        if (window !== undefined) {
          throw new ConfigError('of', `of[${windowFrom}] and of[${index}] both returned a window; a key carries at most one`);
        }
        window = childKey.window;
        windowFrom = index;
      }
      const key: DedupKey = { key: formatKey('composite', parts), parts };
      if (window !== undefined) key.window = window;
      return key;
    },
  };
}
