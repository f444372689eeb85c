import type { EventPath } from './path.js';

// contentHash's exclude paths as a trie walked together with the encoder, so deciding whether a
// member is excluded costs one map lookup per open exclude branch, and nothing at all below the
// members no exclude path reaches (almost the whole event).

interface ExclusionNode {
  /** An exclude path ends here: the member at this position is left out. */
  end: boolean;
  keys: Map<string, ExclusionNode>;
  indices: Map<number, ExclusionNode>;
  /** A `*` segment: any key or index. */
  any: ExclusionNode | undefined;
}

/** The trie nodes whose position is the current member's: empty when nothing below is excluded. */
export type ExclusionCursor = readonly ExclusionNode[];

/** What one step of the walk found: whether the member is excluded, and the cursor for its children. */
export interface ExclusionStep {
  excluded: boolean;
  next: ExclusionCursor;
}

const NOTHING: ExclusionCursor = [];
const KEPT: ExclusionStep = { excluded: false, next: NOTHING };

/** Exclude paths, compiled for one walk over an event (or over `{ [includePath]: value }`). */
export class Exclusions {
  private readonly root = node();
  // With `include`, the walked object's members are the include paths as written.
  private readonly selection: Map<string, ExclusionCursor> | undefined;

  constructor(exclude: readonly EventPath[], include?: readonly EventPath[]) {
    for (const path of exclude) {
      let at = this.root;
      for (const segment of path.segments) {
        if (segment.kind === 'any') at = at.any ??= node();
        else if (segment.kind === 'index') at = getOrAdd(at.indices, segment.index);
        else at = getOrAdd(at.keys, segment.key);
      }
      at.end = true;
    }
    this.selection =
      include === undefined
        ? undefined
        : new Map(include.map((path) => [path.source, path.segments.reduce(
            (cursor: ExclusionCursor, segment) =>
              this.step(cursor, segment.kind === 'index' ? segment.index : segment.kind === 'key' ? segment.key : '*').next,
            [this.root],
          )]));
  }

  /** The cursor of the walked value's root. */
  start(): ExclusionCursor {
    return this.selection === undefined ? [this.root] : SELECTION;
  }

  /** Moves from a member's parent cursor to the member `step` (a key, or an array index). */
  step(cursor: ExclusionCursor, step: string | number): ExclusionStep {
    if (cursor.length === 0) return KEPT;
    if (cursor === SELECTION) {
      const next = this.selection!.get(String(step)) ?? NOTHING;
      return { excluded: next.some((at) => at.end), next };
    }
    let excluded = false;
    const next: ExclusionNode[] = [];
    const visit = (child: ExclusionNode | undefined) => {
      if (child === undefined) return;
      excluded ||= child.end;
      next.push(child);
    };
    for (const at of cursor) {
      visit(at.any);
      if (typeof step === 'number') {
        visit(at.indices.get(step));
        // A key segment matches an array index written as a key (`items.0`), as paths read it.
        visit(at.keys.get(String(step)));
      } else {
        visit(at.keys.get(step));
      }
    }
    return next.length === 0 ? KEPT : { excluded, next };
  }
}

// A marker cursor for the root of `{ [includePath]: value }`: never empty, never a real node.
const SELECTION: ExclusionCursor = [node()];

function node(): ExclusionNode {
  return { end: false, keys: new Map(), indices: new Map(), any: undefined };
}

function getOrAdd<K>(map: Map<K, ExclusionNode>, key: K): ExclusionNode {
  let child = map.get(key);
  if (child === undefined) map.set(key, (child = node()));
  return child;
}
