import { ConfigError, KeyExtractionError } from '../errors.js';
import { describeType, envelopeIdOf, keyValueProblem } from '../internal/path.js';
import { checkStrategyName } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKeyStrategy, KeyPart } from './types.js';

/** The built-in strategies' names: their keys start with them, so a custom strategy may not. */
const RESERVED_NAMES = ['eventId', 'stateWindow', 'contentHash', 'composite', 'anyOf'] as const;

/**
 * A key computed by your own function (code only; JSON config cannot carry functions).
 * The result is checked like any key field: it must be a non-empty string, and one with
 * `undefined` as a token (what `${event.missing}` prints, as in `order-undefined`) is refused.
 * Names of the built-in strategies are refused, so a custom key never shares their key space.
 * @param fn - computes the key value from the event.
 * @param name - the key's first segment and the label in errors, `<custom:NAME>`; defaults to `custom`.
 * @throws {@link ConfigError} when `fn` is not a function or `name` is not 1–64 letters, digits, `_`, `.`, `-`.
 * @example
 * const strategy = custom((event: OrderEvent) => `${event.detail.orderId}-${event.detail.revision}`, 'orderRevision');
 * strategy.keyFor(event).key; // 'orderRevision:o-1-3'
 */
export function custom<TEvent = unknown>(fn: (event: TEvent) => string, name = 'custom'): DedupKeyStrategy<TEvent> {
  if (typeof fn !== 'function') throw new ConfigError('fn', `must be a function (event) => string, got ${describeType(fn)}`);
  const strategyName = checkStrategyName(name, 'name');
  if ((RESERVED_NAMES as readonly string[]).includes(strategyName)) {
    throw new ConfigError(
      'name',
      `"${strategyName}" is a built-in strategy's name; a custom strategy under it would share its keys. Pick another name`,
    );
  }
  const label = `<custom:${strategyName}>`;
  return {
    name: strategyName,
    keyFor(event) {
      const value: unknown = fn(event);
      const problem =
        typeof value === 'string' ? keyValueProblem(value, 'template') : `returned ${describeType(value)}, expected a non-empty string`;
      if (problem !== undefined) throw new KeyExtractionError(label, problem, envelopeIdOf(event));
      const parts: KeyPart[] = [{ label, value: value as string }];
      return { key: formatKey(strategyName, parts), parts };
    },
  };
}
