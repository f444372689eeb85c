import { formatWalkPath, type WalkPath } from './path.js';

/** A value has no canonical JSON form; {@link CanonicalJsonError.path} says where it is. */
export class CanonicalJsonError extends TypeError {
  constructor(
    /** Where the bad value sits, e.g. `detail.amount` or `(root)`. */
    readonly path: string,
    /** What is wrong, phrased to follow the path: `is NaN; JSON has no NaN`. */
    readonly problem: string,
  ) {
    super(`[idemkit] cannot encode canonical JSON: value at ${path} ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

/** Options of {@link canonicalJsonWith}. */
export interface CanonicalJsonOptions {
  /** Drops the member or array element at this walk position (with everything under it). */
  omit?: (path: WalkPath) => boolean;
}

/**
 * Encodes a value as canonical JSON in the style of RFC 8785: object keys sorted by UTF-16
 * code units, no whitespace, numbers and strings as `JSON.stringify` writes them, `toJSON`
 * honoured, `undefined` members dropped and `undefined` array elements written as `null`.
 * Equal data gives equal text whatever the key order, so its hash identifies content.
 * @throws {@link CanonicalJsonError} (a TypeError) naming the path of a NaN, Infinity, BigInt,
 * function, symbol, Map, Set or circular reference, which JSON cannot carry faithfully.
 * @example canonicalJson({ b: [1, 'x'], a: null }) // '{"a":null,"b":[1,"x"]}'
 */
export function canonicalJson(value: unknown): string {
  return canonicalJsonWith(value, {});
}

/** {@link canonicalJson} with members left out, so excluded fields never need a copy of the event. */
export function canonicalJsonWith(value: unknown, options: CanonicalJsonOptions): string {
  const text = encode(value, '', [], new Set(), options.omit);
  if (text === undefined) throw new CanonicalJsonError('(root)', 'is undefined; there is nothing to encode');
  return text;
}

// Returns undefined for values JSON leaves out (undefined), so the caller can drop or null them.
function encode(
  input: unknown,
  holderKey: string,
  path: (string | number)[],
  ancestors: Set<object>,
  omit: ((path: WalkPath) => boolean) | undefined,
): string | undefined {
  let value = input;
  // Same order as JSON.stringify: toJSON first (Date → ISO string), then unbox primitives.
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = (toJSON as (key: string) => unknown).call(value, holderKey);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();

  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw fail(path, `is ${value}; JSON has no ${value}`);
      return JSON.stringify(value); // ECMAScript number serialization, as RFC 8785 prescribes; -0 → 0
    case 'bigint':
      throw fail(path, 'is a BigInt; JSON has no BigInt, convert it to a string first');
    case 'function':
    case 'symbol':
      // JSON.stringify would drop these silently; a hash that ignores them would merge different inputs.
      throw fail(path, `is a ${typeof value}, which JSON cannot encode`);
  }

  if (value === null) return 'null';
  const object = value as object;
  // Maps and Sets stringify as {}: every Map would hash alike, so refuse rather than collide.
  if (object instanceof Map || object instanceof Set) {
    throw fail(path, `is a ${object instanceof Map ? 'Map' : 'Set'}; convert it to an object or array first`);
  }
  if (ancestors.has(object)) throw fail(path, 'is a circular reference');
  ancestors.add(object);
  try {
    return Array.isArray(object)
      ? encodeArray(object, path, ancestors, omit)
      : encodeObject(object as Record<string, unknown>, path, ancestors, omit);
  } finally {
    ancestors.delete(object);
  }
}

function encodeArray(
  array: readonly unknown[],
  path: (string | number)[],
  ancestors: Set<object>,
  omit: ((path: WalkPath) => boolean) | undefined,
): string {
  const items: string[] = [];
  // An index loop, not forEach: holes in sparse arrays must read as undefined → null, like JSON.stringify.
  for (let index = 0; index < array.length; index++) {
    path.push(index);
    if (omit === undefined || !omit(path)) items.push(encode(array[index], String(index), path, ancestors, omit) ?? 'null');
    path.pop();
  }
  return `[${items.join(',')}]`;
}

function encodeObject(
  object: Record<string, unknown>,
  path: (string | number)[],
  ancestors: Set<object>,
  omit: ((path: WalkPath) => boolean) | undefined,
): string {
  const members: string[] = [];
  // The default sort compares UTF-16 code units, which is exactly RFC 8785's order.
  for (const key of Object.keys(object).sort()) {
    path.push(key);
    if (omit === undefined || !omit(path)) {
      const text = encode(object[key], key, path, ancestors, omit);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    path.pop();
  }
  return `{${members.join(',')}}`;
}

function fail(path: WalkPath, problem: string): CanonicalJsonError {
  return new CanonicalJsonError(formatWalkPath(path), problem);
}
