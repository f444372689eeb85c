import { KeyExtractionError } from '../errors.js';

/** One step of a path: an object key, an array index, or `*` (any key or index; exclude paths only). */
export type PathSegment =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'any' };

/** A parsed dotted path, keeping the text the user wrote for error messages. */
export interface EventPath {
  /** The path as written, e.g. `detail.items[0].id`. */
  readonly source: string;
  readonly segments: readonly PathSegment[];
}

/** Where a walk over a value stands: object keys as strings, array indices as numbers. */
export type WalkPath = readonly (string | number)[];

const ANY: PathSegment = { kind: 'any' };
// One dot-separated piece: an optional key, then any number of `[n]` / `[*]` indices.
const PIECE = /^([^.[\]]*)((?:\[(?:\d+|\*)\])*)$/;
const INDEX = /\[(\d+|\*)\]/g;
// Canonical array indices only, so `items.01` does not silently read `items[1]`.
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * Parses `detail.eventBody.conversationId` or `items[0].id`.
 * @throws SyntaxError whose message completes the sentence "the path …", for the caller to wrap in a ConfigError.
 */
export function parsePath(source: string, options: { wildcards?: boolean } = {}): EventPath {
  if (source === '') throw new SyntaxError('is empty');
  if (source.trim() !== source) throw new SyntaxError('has leading or trailing spaces');
  const segments: PathSegment[] = [];
  for (const [position, piece] of source.split('.').entries()) {
    const match = PIECE.exec(piece);
    if (match === null) throw new SyntaxError(`has a malformed segment "${piece}"; write key.sub[0].field`);
    const name = match[1] ?? '';
    const indices = match[2] ?? '';
    if (piece === '') throw new SyntaxError('has an empty segment (two dots, or a dot at an end)');
    // Only the first piece may be a bare index (an event that is itself an array).
    if (name === '' && position > 0) throw new SyntaxError(`has an index "${piece}" with no key before it`);
    if (name !== '') segments.push(name === '*' ? ANY : { kind: 'key', key: name });
    for (const [, token = ''] of indices.matchAll(INDEX)) {
      if (token === '*') {
        segments.push(ANY);
        continue;
      }
      const index = Number(token);
      if (!Number.isSafeInteger(index)) throw new SyntaxError(`has an index [${token}] that is too large`);
      segments.push({ kind: 'index', index });
    }
  }
  if (options.wildcards !== true && segments.some((segment) => segment.kind === 'any')) {
    throw new SyntaxError('uses "*", which only exclude paths accept');
  }
  return { source, segments };
}

/** Reads the value at `path`; `undefined` when any step is absent. */
export function readPath(root: unknown, path: EventPath): unknown {
  let current = root;
  for (const segment of path.segments) {
    current = step(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

function step(value: unknown, segment: PathSegment): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    const index =
      segment.kind === 'index'
        ? segment.index
        : segment.kind === 'key' && INDEX_KEY.test(segment.key)
          ? Number(segment.key)
          : undefined;
    return index === undefined ? undefined : (value as unknown[])[index];
  }
  // Read paths never hold wildcards (parsePath rejects them), and `[n]` only indexes arrays.
  if (segment.kind !== 'key') return undefined;
  // Own properties only: an event without `constructor` must not yield Object.prototype.constructor.
  return Object.hasOwn(value, segment.key) ? (value as Record<string, unknown>)[segment.key] : undefined;
}

/** Whether one path segment matches one step of a walk (`*` matches any; `0` matches index 0). */
export function segmentMatches(segment: PathSegment, walkStep: string | number): boolean {
  switch (segment.kind) {
    case 'any':
      return true;
    case 'index':
      return walkStep === segment.index;
    case 'key':
      return typeof walkStep === 'string' ? walkStep === segment.key : String(walkStep) === segment.key;
  }
}

/** The steps a walk takes to reach `path` (wildcards cannot be walked, so callers pass read paths). */
export function walkStepsOf(path: EventPath): (string | number)[] {
  return path.segments.map((segment) =>
    segment.kind === 'index' ? segment.index : segment.kind === 'key' ? segment.key : '*',
  );
}

// Keys the dotted syntax can write as they are.
const PLAIN_KEY = /^[^.[\]]+$/;

/**
 * Formats a walk position the way users write paths: `detail.items[0].id`, or `(root)`.
 * Keys the dotted syntax cannot express (empty, or holding `.`, `[`, `]`) appear quoted: `a[""]`.
 */
export function formatWalkPath(walk: WalkPath): string {
  if (walk.length === 0) return '(root)';
  let out = '';
  for (const walkStep of walk) {
    if (typeof walkStep === 'number') out += `[${walkStep}]`;
    else if (!PLAIN_KEY.test(walkStep)) out += `[${JSON.stringify(walkStep)}]`;
    else out += out === '' ? walkStep : `.${walkStep}`;
  }
  return out;
}

/** The EventBridge envelope id (`event.id`) when it is a non-empty string, for error messages. */
export function envelopeIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Names a value's type for messages: `null`, `undefined`, `an array`, `an object`, `a boolean`… */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Quotes a value for a message, shortened so one huge field does not flood the logs. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * Why `value` cannot be a key part, or `undefined` when it can.
 * Phrased to follow the path: `"detail.status" is empty`.
 */
export function keyValueProblem(value: unknown, origin: 'field' | 'template' = 'field'): string | undefined {
  if (value === undefined) return 'is missing';
  if (value === null) return 'is null';
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `is ${value}, expected a finite number`;
  if (typeof value !== 'string') return `is ${describeType(value)}, expected a string or number`;
  if (value === '') return 'is empty';
  // A blank id would make every blank-id event one logical event.
  if (mayBeBlank(value) && value.trim() === '') return 'is blank (only whitespace)';
  // A field that *is* "undefined" is a missing value printed upstream (String(undefined)); keying
  // on it would merge unrelated events. A field that merely contains the word is data like any other.
  if (value === 'undefined') return 'is "undefined": a missing value was printed into it';
  // A key a user's function built: `${event.missing}` prints the word between other parts.
  if (origin === 'template' && PRINTED_UNDEFINED.test(value)) {
    return `is ${quote(value)}, which contains "undefined": a missing value was printed into it`;
  }
  return undefined;
}

/** False when the first character is visible ASCII, which no whitespace is: the common case skips `trim()`. */
function mayBeBlank(value: string): boolean {
  const first = value.charCodeAt(0);
  return !(first > 0x20 && first < 0x7f);
}

// "undefined" as a whole token (not inside a word such as "undefinedness").
const PRINTED_UNDEFINED = /(?:^|[^A-Za-z0-9])undefined(?:$|[^A-Za-z0-9])/;

/**
 * Reads a key field: a non-empty string, or a finite number (returned as its string form).
 * @throws {@link KeyExtractionError} naming the path and the envelope id when the field is missing, empty or of another type.
 */
export function readKeyField(event: unknown, path: EventPath): string {
  const value = readPath(event, path);
  const problem = keyValueProblem(value);
  if (problem !== undefined) throw new KeyExtractionError(path.source, problem, envelopeIdOf(event));
  return typeof value === 'number' ? String(value) : (value as string);
}
