import { ConfigError } from '../errors.js';
import { checkChildren, checkKnownFields, checkOptions } from './checks.js';
import type { DedupIdentity, DedupKey, DedupKeyStrategy } from './types.js';

/** Options of {@link anyOf}. */
export interface AnyOfOptions<TEvent = unknown> {
  /** The identities an event has, each from its own strategy: the first is the primary one. */
  of: readonly DedupKeyStrategy<TEvent>[];
}

/** An {@link anyOf} strategy; `of` lists its children, for previews and analysis. */
export interface AnyOfStrategy<TEvent = unknown> extends DedupKeyStrategy<TEvent> {
  readonly of: readonly DedupKeyStrategy<TEvent>[];
}

/**
 * Several identities per event: a delivery is a duplicate when **any** of its identities (the
 * envelope id, a state window, a content hash…) matches one remembered from an earlier delivery.
 * When it is new, all its identities are claimed together, completed together and released
 * together; the handler's fencing token is the first identity's.
 *
 * Contrast with {@link composite}, which glues its children's parts into **one** key: a composite
 * matches only when *all* parts are equal; `anyOf` matches when *one* identity is.
 *
 * Each identity keeps its own child's key space (`eventId:…`, `stateWindow:…`), so switching from
 * `eventId` to `anyOf([eventId(), …])` keeps recognising what was seen before the switch.
 * An identity whose field is missing fails the event with a `KeyExtractionError`, like any strategy.
 * @throws {@link ConfigError} on field `of` when it is empty or holds a non-strategy.
 * @example
 * const strategy = anyOf({ of: [eventId(), stateWindow({ entity: 'detail.conversationId', state: 'detail.status',
 *   time: 'detail.timestamp', windowMs: 500 })] });
 */
export function anyOf<TEvent = unknown>(options: AnyOfOptions<TEvent> | readonly DedupKeyStrategy<TEvent>[]): AnyOfStrategy<TEvent> {
  const record = checkOptions(Array.isArray(options) ? { of: options } : options, '{ of: [eventId(), stateWindow({ … })] }');
  checkKnownFields(record, ['of'], '', 'anyOf');
  // Nested anyOf children are flattened: an identity of a child is an identity of the whole.
  const children = checkChildren(record['of'], 'of', { oneWindow: false }) as DedupKeyStrategy<TEvent>[];
  return {
    name: 'anyOf',
    of: children,
    keyFor(event) {
      const identities: DedupIdentity[] = [];
      for (const child of children) {
        const key = child.keyFor(event);
        for (const identity of [key, ...(key.also ?? [])]) {
          // Two children may yield one key (two equal strategies): keep it once.
          if (!identities.some((known) => known.key === identity.key)) identities.push(withoutAlso(identity));
        }
      }
      const [primary, ...also] = identities;
      const key: DedupKey = { ...primary! };
      if (also.length > 0) key.also = also;
      return key;
    },
  };
}

function withoutAlso(identity: DedupIdentity | DedupKey): DedupIdentity {
  const copy: DedupIdentity = { key: identity.key, parts: identity.parts };
  if (identity.window !== undefined) copy.window = identity.window;
  return copy;
}

/** Whether a strategy yields several identities; `composite` cannot hold one (its parts make one key). */
export function isAnyOf(strategy: DedupKeyStrategy<never>): boolean {
  return strategy.name === 'anyOf';
}

/** Refuses an anyOf inside a composite, naming where it is. */
export function checkNoAnyOf(children: readonly DedupKeyStrategy<never>[], field: string): void {
  const index = children.findIndex(isAnyOf);
  if (index >= 0) {
    throw new ConfigError(`${field}[${index}]`, 'is an anyOf strategy: a composite makes one key, so put the composite inside anyOf instead');
  }
}
