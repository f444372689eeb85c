/**
 * The candidate a user most likely meant by `input`: the same name in other case or punctuation,
 * one containing the other (`genesys` for `genesysCloud`, `cxone` for `niceCxone`), or a few
 * single-character edits away (more for longer names). Used for "did you mean" hints.
 */
export function likelyMeant(input: string, candidates: readonly string[]): string | undefined {
  const plain = normalize(input);
  if (plain.length === 0) return undefined;
  return (
    candidates.find((candidate) => normalize(candidate) === plain) ??
    candidates.find((candidate) => plain.length >= 4 && (normalize(candidate).includes(plain) || plain.includes(normalize(candidate)))) ??
    candidates.find((candidate) => similar(candidate, input))
  );
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Close enough to be a typo: a few single-character edits apart (more for longer names). */
export function similar(a: string, b: string): boolean {
  const allowed = Math.max(2, Math.floor(Math.min(a.length, b.length) / 5));
  if (Math.abs(a.length - b.length) > allowed) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]! <= allowed;
}
