import { newClaimRecord, type ClaimOutcome, type ClaimRequest } from '@idemkit/core';
import { runPlan, type Plan } from './batches.js';
import { bySlot, claimAcrossSlots, isReplyError, SpreadClaimFailure } from './cross-slot.js';
import { PartialClaimError, toStoreError } from './errors.js';
import type { PieceClaim, Placed, ScriptCalls } from './script-calls.js';

/**
 * Claims a planned batch. When any call fails, no further call starts, every claim that landed is
 * released again (fenced by its token), and the error says exactly what was left: a plain store
 * error when nothing had landed, else a {@link PartialClaimError}.
 */
export async function claimPlanned(
  operation: string,
  calls: ScriptCalls,
  requests: readonly ClaimRequest[],
  placed: readonly Placed[][],
  plan: Plan,
  /** Outcomes settled before the plan (the fast path's pipeline): released like the plan's own if a call fails. */
  settled?: readonly (ClaimOutcome | undefined)[],
): Promise<ClaimOutcome[]> {
  const outcomes = settled === undefined ? new Array<ClaimOutcome | undefined>(requests.length) : [...settled];
  const left = { released: [] as number[], stillClaimed: [] as number[], unknown: [] as number[], nothing: [] as number[] };
  let cause: unknown;
  let landed = false;
  await runPlan(
    plan,
    async (step) => {
      if (step.kind === 'call') {
        try {
          const replies = await calls.claim(step.indexes.map((i) => ({ request: requests[i]!, identities: placed[i]! })), true);
          replies.forEach((reply, j) => (outcomes[step.indexes[j]!] = outcomeOf(requests[step.indexes[j]!]!, placed[step.indexes[j]!]!, reply)));
        } catch (error) {
          cause ??= error;
          // A reply error means the script ran and wrote nothing; without a reply, it may have landed.
          (isReplyError(error) ? left.nothing : left.unknown).push(...step.indexes);
        }
        return;
      }
      const i = step.index;
      try {
        const result = await claimAcrossSlots(calls, requests[i]!, placed[i]!);
        outcomes[i] = result.acquired ? acquired(requests[i]!, placed[i]!, result.tokens) : { acquired: false, record: result.record };
      } catch (error) {
        const failure = error instanceof SpreadClaimFailure ? error : new SpreadClaimFailure(error, 'unknown', false);
        cause ??= failure.cause;
        landed ||= failure.landed;
        left[failure.left].push(i);
      }
    },
    () => cause !== undefined,
  );
  if (cause === undefined) return outcomes as ClaimOutcome[];
  landed ||= outcomes.some((outcome) => outcome?.acquired === true);
  await releaseLanded(calls, outcomes, placed, left);
  const storeError = toStoreError(operation, cause);
  if (!landed) throw storeError;
  const sorted = (indexes: number[]) => [...indexes].sort((a, b) => a - b);
  throw new PartialClaimError(operation, storeError, sorted(left.released), sorted(left.stillClaimed), sorted(left.unknown));
}

/** The outcome of one call's answer for a request whose identities all went in that call. */
export function outcomeOf(request: ClaimRequest, identities: readonly Placed[], reply: PieceClaim): ClaimOutcome {
  if (!reply.acquired) return { acquired: false, record: reply.record };
  return acquired(request, identities, new Map(identities.map((identity, k) => [identity.index, { token: reply.tokens[k]!, now: reply.now }])));
}

/** The outcome of a claim that acquired every identity: its record, and the tokens of `also` in request order. */
export function acquired(request: ClaimRequest, identities: readonly Placed[], tokens: ReadonlyMap<number, { token: number; now: number }>): ClaimOutcome {
  const first = tokens.get(0)!;
  const outcome: ClaimOutcome = { acquired: true, fencingToken: first.token, record: newClaimRecord(request, first.token, first.now) };
  if (identities.length > 1) {
    outcome.also = identities.slice(1).map((identity) => ({ key: identity.key, fencingToken: tokens.get(identity.index)!.token }));
  }
  return outcome;
}

/** Releases every claim of the batch that landed, all slots at once; sorts each request into what it left. */
async function releaseLanded(
  calls: ScriptCalls,
  outcomes: readonly (ClaimOutcome | undefined)[],
  placed: readonly Placed[][],
  left: { released: number[]; stillClaimed: number[] },
): Promise<void> {
  const held = outcomes.flatMap((outcome, i) => {
    if (outcome?.acquired !== true) return [];
    const tokens = [outcome.fencingToken, ...(outcome.also ?? []).map((identity) => identity.fencingToken)];
    return placed[i]!.map((identity) => ({ request: i, identity: { ...identity, fencingToken: tokens[identity.index]! } }));
  });
  const requestOf = new Map<Placed, number>(held.map(({ request, identity }) => [identity, request]));
  const failed = new Set<number>();
  await Promise.all(
    bySlot(held.map(({ identity }) => identity)).map((group) =>
      calls.release(group).catch(() => group.forEach((identity) => failed.add(requestOf.get(identity)!))),
    ),
  );
  for (const request of new Set(held.map((entry) => entry.request))) (failed.has(request) ? left.stillClaimed : left.released).push(request);
}
