/** A scalar at the end of a path: what a key strategy can read. */
export type Leaf = string | number | boolean | null;

// Path segments a strategy config can name without quoting: no dots, brackets or `*`.
const NAMEABLE = /^[^.[\]*\s]+$/;
const MAX_DEPTH = 8;

/**
 * Calls `visit` for every scalar of an event reachable through object keys, with its dotted path
 * (`detail.eventBody.conversationId`). Arrays are not entered (an index is no stable key part):
 * `onArray` sees them whole. Keys a path cannot name (`a.b`, `x[0]`) are skipped with what lies under them.
 */
export function forEachLeaf(
  value: unknown,
  visit: (path: string, leaf: Leaf) => void,
  onArray?: (path: string, array: unknown[]) => void,
  prefix = '',
  depth = 0,
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || depth >= MAX_DEPTH) return;
  for (const [key, child] of Object.entries(value)) {
    if (!NAMEABLE.test(key)) continue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (Array.isArray(child)) onArray?.(path, child);
    else if (child !== null && typeof child === 'object') forEachLeaf(child, visit, onArray, path, depth + 1);
    else if (child !== undefined && typeof child !== 'function') visit(path, child as Leaf);
  }
}

/**
 * The paths whose values differ between two events (present in one only, or unequal; an array
 * counts as one value), leaving out `ignored` paths (volatile fields).
 */
export function differingPaths(a: unknown, b: unknown, ignored: ReadonlySet<string>): string[] {
  const left = valuesByPath(a);
  const right = valuesByPath(b);
  const paths = new Set([...left.keys(), ...right.keys()]);
  return [...paths].filter((path) => !ignored.has(path) && left.get(path) !== right.get(path));
}

// Scalars as JSON text, arrays as their JSON text, so `!==` compares values.
function valuesByPath(value: unknown): Map<string, string> {
  const values = new Map<string, string>();
  forEachLeaf(
    value,
    (path, leaf) => values.set(path, JSON.stringify(leaf)),
    (path, array) => values.set(path, JSON.stringify(array)),
  );
  return values;
}
