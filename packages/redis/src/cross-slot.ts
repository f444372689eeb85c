import { LeaseLostError, type ClaimRequest, type IdempotencyRecord } from '@idemkit/core';
import { PartialWriteError, toStoreError } from './errors.js';
import type { PieceClaim, Placed, PreparedState, ScriptCalls } from './script-calls.js';

// The protocol for a request whose identities (anyOf) live in several Cluster slots, where no one
// script can reach them all. Each step is one script, atomic on its slot; docs/store-redis.md
// states the guarantees.

/** A request's identities grouped by slot, groups in ascending slot order, request order inside a group. */
export function bySlot(identities: readonly Placed[]): Placed[][] {
  const groups = new Map<number, Placed[]>();
  for (const identity of identities) {
    const group = groups.get(identity.slot);
    if (group === undefined) groups.set(identity.slot, [identity]);
    else group.push(identity);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/** How a claim across slots failed: what it may have left behind. */
export class SpreadClaimFailure extends Error {
  constructor(
    override readonly cause: unknown,
    /** `released`: what landed was released; `stillClaimed`: some could not be; `unknown`: a call got no reply. */
    readonly left: 'released' | 'stillClaimed' | 'unknown' | 'nothing',
    /** Whether any slot's claim had landed (and was released, or not) before the failure. */
    readonly landed: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** An identity's claim: acquired with its token (and the time of its slot's call), or refused by a record. */
export type IdentityClaimResult = { acquired: true; tokens: Map<number, { token: number; now: number }> } | { acquired: false; record: IdempotencyRecord };

/**
 * Claims the slot groups one after another in ascending slot order (so two claimers that share
 * identities meet at the lowest shared slot, and one of them always gets through). A refused group
 * writes nothing; the groups claimed before it are released again (fenced by their tokens), and the
 * refusal answered is the one the claim rules pick over every identity (the groups not reached yet
 * are judged read-only when they could change it).
 * @throws {@link SpreadClaimFailure} when a call fails; what had landed is released first.
 */
export async function claimAcrossSlots(calls: ScriptCalls, request: ClaimRequest, identities: readonly Placed[]): Promise<IdentityClaimResult> {
  const groups = bySlot(identities);
  const claimed: Placed[] = [];
  const tokens = new Map<number, { token: number; now: number }>();
  for (const [g, group] of groups.entries()) {
    let reply: PieceClaim;
    try {
      [reply] = (await calls.claim([{ request, identities: group }], true)) as [PieceClaim];
    } catch (error) {
      const released = await releaseAll(calls, claimed, tokens);
      // A reply error means the script ran and wrote nothing; anything else may have landed.
      const left = !released ? 'stillClaimed' : isReplyError(error) ? (claimed.length > 0 ? 'released' : 'nothing') : 'unknown';
      throw new SpreadClaimFailure(error, left, claimed.length > 0);
    }
    if (reply.acquired) {
      group.forEach((identity, j) => tokens.set(identity.index, { token: reply.tokens[j]!, now: reply.now }));
      claimed.push(...group);
      continue;
    }
    if (!(await releaseAll(calls, claimed, tokens))) {
      throw new SpreadClaimFailure(new Error('releasing the identities claimed on other slots failed'), 'stillClaimed', true);
    }
    return { acquired: false, record: await refusalAmong(calls, request, reply, groups.slice(g + 1)) };
  }
  return { acquired: true, tokens };
}

/** Releases claimed identities; whether every release call got its reply. */
async function releaseAll(calls: ScriptCalls, claimed: readonly Placed[], tokens: ReadonlyMap<number, { token: number }>): Promise<boolean> {
  const held = claimed.map((identity) => ({ ...identity, fencingToken: tokens.get(identity.index)!.token }));
  const results = await Promise.allSettled(bySlot(held).map((group) => calls.release(group)));
  return results.every((result) => result.status === 'fulfilled');
}

/**
 * The refusal the claim rules pick (a completed record before a running one, the first identity
 * first) from a refused group and the groups not reached yet, judged read-only only when one of
 * them could change the answer. A probe that fails changes nothing: the refusal in hand is real.
 */
async function refusalAmong(
  calls: ScriptCalls,
  request: ClaimRequest,
  refused: Extract<PieceClaim, { acquired: false }>,
  rest: readonly Placed[][],
): Promise<IdempotencyRecord> {
  const settled = refused.record.status === 'completed' && rest.every((group) => group.every((identity) => identity.index > refused.identity.index));
  if (settled || rest.length === 0) return refused.record;
  const probes = await Promise.allSettled(rest.map((group) => calls.claim([{ request, identities: group }], false)));
  const candidates = [refused, ...probes.flatMap((probe) => (probe.status === 'fulfilled' && !probe.value[0]!.acquired ? [probe.value[0]!] : []))] as Extract<
    PieceClaim,
    { acquired: false }
  >[];
  const first = (status: string) =>
    candidates.filter((candidate) => candidate.record.status === status).sort((a, b) => a.identity.index - b.identity.index)[0];
  return (first('completed') ?? first('in_progress') ?? refused).record;
}

/**
 * Completes identities across slots: first every slot is prepared (each identity checked, and the
 * leases of held ones kept running for `pinMs` so nobody can take them over meanwhile), then the
 * held ones are completed, slot by slot at once. A lost identity found while preparing fails the
 * call with nothing completed; an identity already completed with its token (an earlier attempt of
 * this call landed there) counts as done.
 * @throws {@link LeaseLostError} for the first lost identity; {@link PartialWriteError} when some slots completed and others got no reply.
 */
export async function completeAcrossSlots(
  calls: ScriptCalls,
  identities: readonly Placed[],
  retentionMs: number,
  result: string | undefined,
  pinMs: number,
): Promise<void> {
  const groups = bySlot(identities);
  const prepared = await Promise.allSettled(groups.map((group) => calls.prepare([group], pinMs)));
  const states = new Map<number, PreparedState>();
  for (const [g, outcome] of prepared.entries()) {
    if (outcome.status === 'rejected') throw toStoreError('complete', outcome.reason);
    groups[g]!.forEach((identity, j) => states.set(identity.index, outcome.value[0]![j]!));
  }
  const inOrder = [...identities].sort((a, b) => a.index - b.index);
  const lost = inOrder.find((identity) => states.get(identity.index)!.state === 'lost');
  if (lost !== undefined) {
    const state = states.get(lost.index) as Extract<PreparedState, { state: 'lost' }>;
    throw new LeaseLostError(lost.key, lost.fencingToken!, state.current);
  }
  const held = groups.map((group) => group.filter((identity) => states.get(identity.index)!.state === 'held')).filter((group) => group.length > 0);
  if (held.length === 0) {
    // Every identity was completed by an earlier attempt: refused like a second completion, with the own record.
    const first = inOrder[0]!;
    throw new LeaseLostError(first.key, first.fencingToken!, (states.get(first.index) as Extract<PreparedState, { state: 'done' }>).record);
  }
  const commits = await Promise.allSettled(held.map((group) => calls.complete([{ identities: group, retentionMs, result }])));
  const notDone = new Set<number>();
  let cause: unknown;
  for (const [g, commit] of commits.entries()) {
    if (commit.status === 'rejected') {
      held[g]!.forEach((identity) => notDone.add(identity.index));
      cause ??= commit.reason;
      continue;
    }
    const write = commit.value[0]!;
    if (write.ok) continue;
    // A re-sent completion (its first reply lost) finds its own completion: done.
    if (write.current?.status === 'completed' && write.current.fencingToken === write.identity.fencingToken) continue;
    // Taken over although its lease was pinned (only a clock far off could do that): lost, like a lapsed lease.
    throw new LeaseLostError(write.identity.key, write.identity.fencingToken!, write.current);
  }
  if (notDone.size === 0) return;
  throw new PartialWriteError('complete', toStoreError('complete', cause), doneOf(inOrder, notDone), [...notDone].sort((a, b) => a - b));
}

/**
 * Extends leases across slots: every slot is checked first (all leases running, nothing written);
 * then each slot's leases are extended at once. Only a lease that lapses between the two steps can
 * make the second one fail on some slots and not others.
 * @throws {@link LeaseLostError} for the first lost identity; {@link PartialWriteError} when some slots extended and others got no reply.
 */
export async function extendAcrossSlots(calls: ScriptCalls, identities: readonly Placed[], leaseMs: number): Promise<void> {
  const groups = bySlot(identities);
  const lostIn = (writes: PromiseSettledResult<Awaited<ReturnType<ScriptCalls['extend']>>>[]) => {
    const lost = writes.flatMap((write) => (write.status === 'fulfilled' && !write.value[0]!.ok ? [write.value[0]!] : []));
    return lost.sort((a, b) => (a.ok || b.ok ? 0 : a.identity.index - b.identity.index))[0];
  };
  const checks = await Promise.allSettled(groups.map((group) => calls.extend([{ identities: group, leaseMs }], false)));
  const failed = checks.find((check) => check.status === 'rejected');
  if (failed !== undefined) throw toStoreError('extendLease', (failed as PromiseRejectedResult).reason);
  const lost = lostIn(checks);
  if (lost !== undefined && !lost.ok) throw new LeaseLostError(lost.identity.key, lost.identity.fencingToken!, lost.current);
  const writes = await Promise.allSettled(groups.map((group) => calls.extend([{ identities: group, leaseMs }], true)));
  const lapsed = lostIn(writes);
  if (lapsed !== undefined && !lapsed.ok) throw new LeaseLostError(lapsed.identity.key, lapsed.identity.fencingToken!, lapsed.current);
  const notDone = new Set(writes.flatMap((write, g) => (write.status === 'rejected' ? groups[g]!.map((identity) => identity.index) : [])));
  if (notDone.size === 0) return;
  const cause = (writes.find((write) => write.status === 'rejected') as PromiseRejectedResult).reason;
  throw new PartialWriteError('extendLease', toStoreError('extendLease', cause), doneOf(identities, notDone), [...notDone].sort((a, b) => a - b));
}

/**
 * Releases identities across slots, every slot at once.
 * @returns whether each identity's in-progress occurrence was deleted, by identity index
 * @throws {@link PartialWriteError} when some slots got no reply
 */
export async function releaseAcrossSlots(calls: ScriptCalls, identities: readonly Placed[]): Promise<Map<number, boolean>> {
  const groups = bySlot(identities);
  const results = await Promise.allSettled(groups.map((group) => calls.release(group)));
  const released = new Map<number, boolean>();
  const notDone = new Set<number>();
  let cause: unknown;
  results.forEach((result, g) => {
    if (result.status === 'fulfilled') groups[g]!.forEach((identity, j) => released.set(identity.index, result.value[j]!));
    else {
      cause ??= result.reason;
      groups[g]!.forEach((identity) => notDone.add(identity.index));
    }
  });
  if (notDone.size === 0) return released;
  const done = [...released].flatMap(([index, freed]) => (freed ? [index] : []));
  throw new PartialWriteError('release', toStoreError('release', cause), done.sort((a, b) => a - b), [...notDone].sort((a, b) => a - b));
}

/** A reply from the server (a script error, WRONGTYPE): the call ran and, our scripts writing last, changed nothing. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function doneOf(identities: readonly Placed[], notDone: ReadonlySet<number>): number[] {
  return identities.map((identity) => identity.index).filter((index) => !notDone.has(index)).sort((a, b) => a - b);
}
