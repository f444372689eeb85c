import { formatWalkPath, type WalkPath } from './path.js';
import { sortedMembers } from './sorted-keys.js';
import type { ExclusionCursor, Exclusions } from './exclusions.js';

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
  /** Members and array elements left out (with everything under them). */
  exclusions?: Exclusions;
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

/**
 * {@link canonicalJson} with members left out, so excluded fields never need a copy of the event.
 *
 * One pass over the value with an explicit stack instead of recursion: an event nested 10,000
 * deep (legal in a 256 KB EventBridge event) encodes like any other instead of overflowing the
 * call stack, and no intermediate strings are built per level.
 */
export function canonicalJsonWith(value: unknown, options: CanonicalJsonOptions): string {
  // Almost every event is shallow and well formed: a recursive pass is much the faster. It gives
  // up on deep nesting and on anything it would refuse, and the iterative pass then encodes the
  // value (or names the path of what JSON cannot carry).
  const root = normalize(value, '');
  if (root !== undefined) {
    const shallow = new ShallowEncoder(options.exclusions);
    if (shallow.write(root, options.exclusions?.start() ?? NOTHING_EXCLUDED)) return shallow.out;
  }
  return new CanonicalEncoder(options.exclusions).encode(value);
}

/** Open objects beyond which the recursive pass hands over to the iterative one. */
const SHALLOW = 32;

/**
 * The recursive pass: writes a normalized value and answers whether it could. It never throws
 * for the value (only a `toJSON` of the caller's may): what it cannot write, it leaves to
 * {@link CanonicalEncoder}, which knows the path to report.
 */
class ShallowEncoder {
  out = '';
  private readonly open: object[] = [];

  constructor(private readonly exclusions: Exclusions | undefined) {}

  write(value: unknown, cursor: ExclusionCursor): boolean {
    switch (typeof value) {
      case 'string':
        this.out += JSON.stringify(value);
        return true;
      case 'number':
        if (!Number.isFinite(value)) return false;
        // ECMAScript number serialization, as RFC 8785 prescribes; -0 → 0.
        this.out += String(value);
        return true;
      case 'boolean':
        this.out += value ? 'true' : 'false';
        return true;
      case 'object':
        break;
      default:
        return false;
    }
    if (value === null) {
      this.out += 'null';
      return true;
    }
    const open = this.open;
    if (open.length >= SHALLOW || value instanceof Map || value instanceof Set || open.includes(value)) return false;
    open.push(value);
    const written = Array.isArray(value) ? this.array(value, cursor) : this.object(value as Record<string, unknown>, cursor);
    open.pop();
    return written;
  }

  private array(value: readonly unknown[], cursor: ExclusionCursor): boolean {
    this.out += '[';
    let first = true;
    // An index loop, not forEach: holes in sparse arrays read as undefined → null, like JSON.stringify.
    for (let index = 0; index < value.length; index++) {
      let next = NOTHING_EXCLUDED;
      if (cursor.length > 0) {
        const step = this.exclusions!.step(cursor, index);
        if (step.excluded) continue;
        next = step.next;
      }
      if (!first) this.out += ',';
      first = false;
      const item = normalize(value[index], index);
      if (item === undefined) this.out += 'null';
      else if (!this.write(item, next)) return false;
    }
    this.out += ']';
    return true;
  }

  private object(value: Record<string, unknown>, cursor: ExclusionCursor): boolean {
    this.out += '{';
    const { sorted, members } = sortedMembers(value);
    let first = true;
    for (let i = 0; i < sorted.length; i++) {
      const key = sorted[i]!;
      let next = NOTHING_EXCLUDED;
      if (cursor.length > 0) {
        const step = this.exclusions!.step(cursor, key);
        if (step.excluded) continue;
        next = step.next;
      }
      const member = normalize(value[key], key);
      if (member === undefined) continue;
      this.out += first ? members[i]! : `,${members[i]!}`;
      first = false;
      if (!this.write(member, next)) return false;
    }
    this.out += '}';
    return true;
  }
}

/** An open array or object whose members are still being written. */
type Frame =
  | { kind: 'array'; value: readonly unknown[]; next: number; empty: boolean; cursor: ExclusionCursor }
  | {
      kind: 'object';
      value: Record<string, unknown>;
      keys: readonly string[];
      /** Each key's `"key":`, as the object's shape made it once. */
      members: readonly string[];
      next: number;
      empty: boolean;
      cursor: ExclusionCursor;
    };

const NOTHING_EXCLUDED: ExclusionCursor = [];

class CanonicalEncoder {
  private out = '';
  private readonly stack: Frame[] = [];
  // Open objects are the stack's frames; a Set mirrors them once nesting is deep, where scanning
  // the stack for a circular reference would cost more than the Set's upkeep.
  private deep: Set<object> | undefined;

  constructor(private readonly exclusions: Exclusions | undefined) {}

  encode(root: unknown): string {
    const value = normalize(root, '');
    if (value === undefined) throw new CanonicalJsonError('(root)', 'is undefined; there is nothing to encode');
    this.write(value, this.exclusions?.start() ?? NOTHING_EXCLUDED);
    while (this.stack.length > 0) this.step(this.stack[this.stack.length - 1]!);
    return this.out;
  }

  /** Writes the next member of the innermost open frame, or closes it. */
  private step(frame: Frame): void {
    if (frame.kind === 'array') {
      if (frame.next >= frame.value.length) return this.close(']');
      const index = frame.next++;
      const step = this.exclusions?.step(frame.cursor, index);
      if (step?.excluded) return;
      if (!frame.empty) this.out += ',';
      frame.empty = false;
      // An index loop, not forEach: holes in sparse arrays read as undefined → null, like JSON.stringify.
      const value = normalize(frame.value[index], index);
      if (value === undefined) this.out += 'null';
      else this.write(value, step?.next ?? NOTHING_EXCLUDED);
      return;
    }
    if (frame.next >= frame.keys.length) return this.close('}');
    const index = frame.next++;
    const key = frame.keys[index]!;
    const step = this.exclusions?.step(frame.cursor, key);
    if (step?.excluded) return;
    const value = normalize(frame.value[key], key);
    if (value === undefined) return;
    this.out += frame.empty ? frame.members[index]! : `,${frame.members[index]!}`;
    frame.empty = false;
    this.write(value, step?.next ?? NOTHING_EXCLUDED);
  }

  /** Writes a normalized value, or opens a frame for an array or object. */
  private write(value: unknown, cursor: ExclusionCursor): void {
    switch (typeof value) {
      case 'string':
        this.out += JSON.stringify(value);
        return;
      case 'boolean':
        this.out += value ? 'true' : 'false';
        return;
      case 'number':
        if (!Number.isFinite(value)) throw fail(this.stack, `is ${value}; JSON has no ${value}`);
        this.out += JSON.stringify(value); // ECMAScript number serialization, as RFC 8785 prescribes; -0 → 0
        return;
      case 'bigint':
        throw fail(this.stack, 'is a BigInt; JSON has no BigInt, convert it to a string first');
      case 'function':
      case 'symbol':
        // JSON.stringify would drop these silently; a hash that ignores them would merge different inputs.
        throw fail(this.stack, `is a ${typeof value}, which JSON cannot encode`);
    }
    if (value === null) {
      this.out += 'null';
      return;
    }
    const object = value as object;
    // Maps and Sets stringify as {}: every Map would hash alike, so refuse rather than collide.
    if (object instanceof Map || object instanceof Set) {
      throw fail(this.stack, `is a ${object instanceof Map ? 'Map' : 'Set'}; convert it to an object or array first`);
    }
    if (this.isOpen(object)) throw fail(this.stack, 'is a circular reference');
    if (this.deep !== undefined) this.deep.add(object);
    else if (this.stack.length >= DEEP) this.deep = new Set([...this.stack.map((frame) => frame.value), object]);
    if (Array.isArray(object)) {
      this.out += '[';
      this.stack.push({ kind: 'array', value: object, next: 0, empty: true, cursor });
    } else {
      this.out += '{';
      const { sorted: keys, members } = sortedMembers(object);
      this.stack.push({ kind: 'object', value: object as Record<string, unknown>, keys, members, next: 0, empty: true, cursor });
    }
  }

  private isOpen(object: object): boolean {
    if (this.deep !== undefined) return this.deep.has(object);
    for (const frame of this.stack) if (frame.value === object) return true;
    return false;
  }

  private close(bracket: ']' | '}'): void {
    this.out += bracket;
    // Pop first: `deep?.delete(…)` would skip evaluating its argument while there is no Set.
    const frame = this.stack.pop()!;
    this.deep?.delete(frame.value);
  }
}

/**
 * Same order as JSON.stringify: `toJSON` first (Date → ISO string, called with the member's key or
 * index as a string), then unbox primitives.
 */
function normalize(input: unknown, holderKey: string | number): unknown {
  let value = input;
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = (toJSON as (key: string) => unknown).call(value, String(holderKey));
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  return value;
}

// Nesting depth from which open objects are tracked in a Set rather than by scanning the stack.
const DEEP = 32;

/** The error for the member being written: its path is each open frame's current member. */
function fail(stack: readonly Frame[], problem: string): CanonicalJsonError {
  const path: WalkPath = stack.map((frame) => (frame.kind === 'array' ? frame.next - 1 : frame.keys[frame.next - 1]!));
  return new CanonicalJsonError(formatWalkPath(path), problem);
}
