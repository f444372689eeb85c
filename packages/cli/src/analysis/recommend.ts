import { FAMILY_RANK } from './candidates.js';
import type { Recommendation, StrategyReport } from './types.js';

/**
 * The candidate with the fewest warnings; among equals, one deployable through `IDEMKIT_STRATEGY`,
 * then the simplest family (an id before a hash, a preset before a hand-made window, `anyOf` last),
 * then the order they were listed in.
 */
export function recommend(strategies: readonly StrategyReport[]): Recommendation | undefined {
  const ranked = [...strategies].sort(
    (a, b) =>
      a.warnings - b.warnings ||
      Number(a.env === undefined) - Number(b.env === undefined) ||
      FAMILY_RANK[a.family] - FAMILY_RANK[b.family],
  );
  const best = ranked[0];
  if (best === undefined) return undefined;
  const tied = ranked.filter((other) => other !== best && other.warnings === best.warnings).length;
  const next = ranked.find((other) => other.warnings > best.warnings);
  const reason =
    `${best.warnings === 0 ? 'no warnings' : `the fewest warnings (${best.warnings})`}` +
    (next === undefined ? '' : `; the next best has ${next.warnings}`) +
    (tied === 0 ? '' : `; ${tied} other${tied === 1 ? '' : 's'} tie, and this one is the simplest to deploy`);
  return {
    id: best.id,
    label: best.label,
    warnings: best.warnings,
    config: best.config,
    code: best.code,
    ...(best.env === undefined ? {} : { env: best.env }),
    reason,
  };
}
