import { ConfigError, KeyExtractionError } from '../errors.js';
import { describeType, envelopeIdOf, keyValueProblem } from '../internal/path.js';
import { checkStrategyName } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKeyStrategy, KeyPart } from './types.js';

/**
 * A key computed by your own function (code only; JSON config cannot carry functions).
 * The result is checked like any key field: it must be a non-empty string, and one containing
 * `undefined` (what `${event.missing}` prints) is refused.
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
  const label = `<custom:${strategyName}>`;
  return {
    name: strategyName,
    keyFor(event) {
      const value: unknown = fn(event);
      const problem =
        typeof value === 'string' ? keyValueProblem(value) : `returned ${describeType(value)}, expected a non-empty string`;
      if (problem !== undefined) throw new KeyExtractionError(label, problem, envelopeIdOf(event));
      const parts: KeyPart[] = [{ label, value: value as string }];
      return { key: formatKey(strategyName, parts), parts };
    },
  };
}
