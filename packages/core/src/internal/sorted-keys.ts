// Canonical JSON needs every object's keys in sorted order, and sorting is most of its cost. Events
// of one source repeat a few object shapes (envelope, detail, participant…), and V8 returns an
// object's keys as interned strings in insertion order, so the sorted order of a key list seen
// before can be found again by comparing keys with `===` — far cheaper than sorting again.

interface Shape {
  keys: readonly string[];
  sorted: readonly string[];
  /** Each sorted key as canonical JSON writes a member's start, `"key":`, made once per shape. */
  members?: readonly string[];
}

/** Longest key list whose sorted order is remembered; wider objects are sorted each time. */
const MAX_CACHED_KEYS = 64;
/** Shapes remembered per key count, so the cache stays bounded whatever the input. */
const SHAPES_PER_LENGTH = 16;

const shapes: Shape[][] = [];

/**
 * The object's own enumerable keys sorted by UTF-16 code units (RFC 8785's order) and, for each,
 * the text canonical JSON starts its member with: the key quoted as `JSON.stringify` quotes it,
 * then `:`. The arrays may be shared between calls: read them, never change them.
 */
export function sortedMembers(object: object): { sorted: readonly string[]; members: readonly string[] } {
  const shape = shapeOf(object);
  shape.members ??= shape.sorted.map((key) => `${JSON.stringify(key)}:`);
  return shape as Required<Shape>;
}

function shapeOf(object: object): Shape {
  const keys = Object.keys(object);
  const count = keys.length;
  if (count === 0) return EMPTY;
  if (count > MAX_CACHED_KEYS) return { keys, sorted: sortInPlace(keys) };
  const bucket = (shapes[count] ??= []);
  for (const shape of bucket) {
    if (sameKeys(shape.keys, keys)) return shape;
  }
  const shape: Shape = { keys, sorted: sortInPlace(keys.slice()) };
  if (bucket.length < SHAPES_PER_LENGTH) bucket.push(shape);
  return shape;
}

const EMPTY: Shape = { keys: [], sorted: [], members: [] };

function sameKeys(known: readonly string[], keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) return false;
  return true;
}

// Insertion sort: fast for the short key lists of events; `>` compares UTF-16 code units.
function sortInPlace(keys: string[]): string[] {
  if (keys.length > MAX_CACHED_KEYS) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
