import { KeyExtractionError } from '../errors.js';
import { CanonicalJsonError, canonicalJsonWith } from '../internal/canonical-json.js';
import { sha256Base64url } from '../internal/hash.js';
import { Exclusions } from '../internal/exclusions.js';
import { envelopeIdOf, readPath, type EventPath } from '../internal/path.js';
import { checkExcludesInsideIncludes, checkKnownFields, checkOptions, checkPathList } from './checks.js';
import { formatKey } from './key-format.js';
import type { DedupKeyStrategy, KeyPart } from './types.js';

/** Options of {@link contentHash}. */
export interface ContentHashOptions {
  /**
   * Paths whose values are hashed, as an object `{ [path]: value }`; each must be present.
   * @default the whole event
   */
  include?: readonly string[];
  /**
   * Paths removed before hashing: volatile fields such as timestamps or request ids.
   * A `*` segment matches any key or array index: `detail.participants.*.updatedAt`.
   * With `include`, each must lie inside an included path.
   * @default []
   */
  exclude?: readonly string[];
}

/**
 * Same content ⇒ same event: the key is the SHA-256 of the canonical JSON (RFC 8785 style) of the
 * selected fields, so neither key order nor excluded volatile fields change it.
 * @throws {@link ConfigError} naming a bad `include[i]` / `exclude[i]` path.
 * @example
 * const strategy = contentHash({ include: ['detail'], exclude: ['detail.metadata.timestamp'] });
 * strategy.keyFor(event).key; // 'contentHash:3q2-7w…' (43 base64url characters)
 */
export function contentHash(options: ContentHashOptions = {}): DedupKeyStrategy {
  const record = checkOptions(options, '{ include: ["detail"], exclude: ["detail.metadata.timestamp"] }');
  checkKnownFields(record, ['include', 'exclude'], '', 'contentHash');
  const include = record['include'] === undefined ? undefined : checkPathList(record['include'], 'include');
  const exclude =
    record['exclude'] === undefined ? [] : checkPathList(record['exclude'], 'exclude', { wildcards: true, allowEmpty: true });
  if (include !== undefined) checkExcludesInsideIncludes(include, exclude, 'exclude');

  const exclusions = exclude.length === 0 ? undefined : new Exclusions(exclude, include);
  const label = `sha256(${include === undefined ? 'event' : include.map((path) => path.source).join(', ')})`;
  return {
    name: 'contentHash',
    keyFor(event) {
      const selected = include === undefined ? event : select(event, include);
      let json: string;
      try {
        json = canonicalJsonWith(selected, exclusions === undefined ? {} : { exclusions });
      } catch (error) {
        if (!(error instanceof CanonicalJsonError)) throw error;
        throw new KeyExtractionError(error.path, error.problem, envelopeIdOf(event));
      }
      const parts: KeyPart[] = [{ label, value: sha256Base64url(json) }];
      return { key: formatKey('contentHash', parts), parts };
    },
  };
}

// The hashed object: one member per included path, named by the path as written.
function select(event: unknown, include: readonly EventPath[]): Record<string, unknown> {
  // fromEntries defines own members, so an include path named `__proto__` cannot set a prototype.
  return Object.fromEntries(
    include.map((path) => {
      const value = readPath(event, path);
      if (value === undefined) throw new KeyExtractionError(path.source, 'is missing', envelopeIdOf(event));
      return [path.source, value];
    }),
  );
}
