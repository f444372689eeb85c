import {
  claimLifetimeMs,
  identitiesOf,
  judgeIdentity,
  newClaimRecord,
  refusalOf,
  type ClaimOutcome,
  type ClaimRequest,
  type CompleteRequest,
  type IdempotencyRecord,
} from '@idemkit/core';
import { isReplyError } from './cross-slot.js';
import { pack, unpack, type PackedValue } from './msgpack.js';
import { occurrenceRecord } from './records.js';
import { runScript, type ScriptClient } from './script-runner.js';
import { COMPARE_AND_DELETE_SCRIPT, COMPARE_AND_SET_SCRIPT } from './scripts.js';

// The two calls most deliveries make, without the store script (~10 µs of server time each):
//
// - A claim of one identity is first sent as `SET key <fresh value> NX PX … GET`. When the key is
//   absent, that *is* the claim the script would have made (same value, same token: the floor
//   now × 1000, since an absent key has no counter left), written atomically. When the key exists,
//   nothing is written and its value comes back: a refusal read from it (a completed or running
//   occurrence it meets) is exactly the script's refusal at that instant. Anything else — the
//   claim could acquire (a lapsed lease, the owner's own claim, another window), or the value does
//   not decode — goes to the script, which judges again atomically and names foreign values.
// - The completion of a claim this client wrote that way is a compare-and-set of the whole value:
//   if the key still holds exactly those bytes, no one took it over, extended or released it, and
//   the completed value is the one the script would write. Otherwise the script completes it.
//
// Only with the caller's clock: with `clock: 'server'` the time lives in the script.

/** What the fast path needs of the client: ioredis' binary-safe `callBuffer`. */
export interface BufferClient extends ScriptClient {
  callBuffer(command: string, ...args: (string | Buffer)[]): Promise<unknown>;
}

/** An ioredis pipeline: commands queued, sent in one write, answered in order. */
export interface BufferPipeline {
  callBuffer(command: string, ...args: (string | Buffer)[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** A standalone client that can also pipeline (a Cluster pipeline must stay in one slot). */
export interface PipelineClient extends BufferClient {
  pipeline(): BufferPipeline;
}

/** What of an occurrence a completion keeps as the claim wrote it. */
interface Claimed {
  claimedAt: number;
  leaseMs: number;
  anchor: number | undefined;
  fingerprint: string | undefined;
  owner: string | undefined;
}

/** A fresh claim this client wrote with SET NX, kept until its completion (or release) is sent. */
interface Written {
  fencingToken: number;
  bytes: Buffer;
  claimed: Claimed;
  expiresAt: number;
}

/**
 * A key's value with one occurrence, as the scripts write it (lua/occurrences.ts): the counter,
 * then `[status, token − claimedAt × 1000, lease, expiry − claimedAt, claimedAt, anchor,
 * fingerprint, owner, result]`, `false` for an absent field.
 */
function packOne(status: 1 | 2, token: number, claimed: Claimed, expiresAt: number, result: string | undefined): Buffer {
  const { claimedAt } = claimed;
  return pack([
    token,
    [
      status,
      token - claimedAt * 1000,
      claimed.leaseMs,
      expiresAt - claimedAt,
      claimedAt,
      claimed.anchor ?? false,
      claimed.fingerprint ?? false,
      claimed.owner ?? false,
      result ?? false,
    ],
  ]);
}

/** A value met that is not the store's: the script names it (a foreign value). */
const FOREIGN = Symbol('foreign value');

/** The fast path's answer when the script must judge: no round trip taken. */
const TO_THE_SCRIPT: Promise<undefined> = Promise.resolve(undefined);
/** The fast path's answer to a completion of a claim it did not write (or cannot complete): the script's. */
const NOT_WRITTEN_HERE: Promise<boolean> = Promise.resolve(false);

const isSwapped = (reply: unknown): boolean => reply === 1;

/** How many written claims are remembered; past it the oldest complete through the script. */
const MAX_WRITTEN = 10_000;

export class FastPath {
  /**
   * By Redis key: a client holds one claim of a key at a time in practice, and a second one (an
   * owner's retry) replaces the first, whose completion then goes through the script.
   */
  private readonly written = new Map<string, Written>();
  /** Off once the server refuses `SET … NX GET` (Redis before 7.0). */
  private supported = true;

  constructor(
    private readonly client: BufferClient,
    private readonly now: () => number,
    private readonly graceMs: number,
    private readonly roundTrip: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  /** Whether a client can take the fast path. */
  static fits(client: ScriptClient): client is BufferClient {
    return typeof (client as Partial<BufferClient>).callBuffer === 'function';
  }

  /** Whether a client can pipeline a batch's claims (standalone servers only: see {@link claimMany}). */
  static pipelines(client: ScriptClient, isCluster: boolean): boolean {
    return !isCluster && typeof (client as Partial<PipelineClient>).pipeline === 'function';
  }

  /**
   * Claims a batch's single-identity requests with one pipeline of `SET … NX GET`, in request
   * order, and answers what the replies settle: a claim written, or a refusal read from the value
   * met. Undefined for every request the store script must judge (several identities, a lapsed
   * or own claim, another window, a foreign value), which the caller sends to it afterwards.
   *
   * The server runs a pipeline's commands in order, so a key repeated in the batch is met by its
   * earlier request's claim exactly as the script, judging the batch in order, would meet it. A
   * `SET NX` only writes an absent key: a request left to the script wrote nothing, and what a
   * later request of its key answered is a refusal by what is there, which still stands.
   *
   * A batch the script would fail whole (a foreign value, a reply error) must change nothing, as
   * the script's own failure does: when any reply is an error or a value that is not the store's,
   * the claims this pipeline wrote are deleted again (each only while it holds exactly what it
   * wrote, on a key that was absent) and the whole batch is left to the script.
   * Standalone only: on a Cluster a pipeline must keep to one slot, and the script's plan does that.
   */
  claimMany(requests: readonly ClaimRequest[], redisKeys: readonly (string | undefined)[]): Promise<(ClaimOutcome | undefined)[]> {
    // Filled, not sparse: callers walk it with array methods, which skip holes.
    const unsettled = new Array<ClaimOutcome | undefined>(requests.length).fill(undefined);
    if (!this.supported) return Promise.resolve(unsettled);
    const now = this.now();
    const sent: { index: number; redisKey: string; written: Written; command: (string | Buffer)[] }[] = [];
    requests.forEach((request, index) => {
      const redisKey = redisKeys[index];
      if (redisKey === undefined) return;
      const { written, px } = this.fresh(request, now);
      sent.push({ index, redisKey, written, command: ['SET', redisKey, written.bytes, 'PX', px, 'NX', 'GET'] });
    });
    if (sent.length === 0) return Promise.resolve(unsettled);
    return this.pipelined(sent.map((item) => item.command)).then(async (replies) => {
      // Nothing is known of the replies, so the script judges every request.
      if (replies === undefined) return unsettled;
      let clean = true;
      const wrote: { redisKey: string; written: Written }[] = [];
      sent.forEach(({ index, redisKey, written }, j) => {
        const [error, reply] = replies[j]!;
        if (error !== null && error !== undefined) {
          this.noteRefused(error);
          clean = false;
          return;
        }
        const settled = this.settle(requests[index]!, redisKey, written, reply);
        if (settled === FOREIGN) {
          clean = false;
          return;
        }
        unsettled[index] = settled;
        if (settled?.acquired === true) wrote.push({ redisKey, written });
      });
      return clean ? unsettled : this.undo(wrote, unsettled);
    });
  }

  /**
   * The value a fresh claim of `request` writes at `now`, and its key's expiry (PX). Its token is
   * the floor now × 1000: an absent key has no counter left.
   */
  private fresh(request: ClaimRequest, now: number): { written: Written; px: string } {
    const token = Math.max(1, now * 1000);
    const lifetime = claimLifetimeMs(request);
    const claimed: Claimed = { claimedAt: now, leaseMs: request.leaseMs, anchor: request.window?.at, fingerprint: request.fingerprint, owner: request.owner };
    const written: Written = { fencingToken: token, bytes: packOne(1, token, claimed, now + lifetime, undefined), claimed, expiresAt: now + lifetime };
    return { written, px: String(lifetime + this.graceMs) };
  }

  /**
   * A reply error to `SET … NX GET`: WRONGTYPE (a foreign value: the script names it), or a server
   * without `SET … NX GET` (a syntax error), after which the scripts do everything.
   */
  private noteRefused(error: Error): void {
    if (/syntax/i.test(error.message)) this.supported = false;
  }

  /**
   * Deletes the claims a batch's pipeline wrote (see {@link claimMany}) and leaves every request
   * to the script; throws when a deletion fails (those claims then lapse with their leases).
   */
  private async undo(wrote: readonly { redisKey: string; written: Written }[], outcomes: (ClaimOutcome | undefined)[]): Promise<(ClaimOutcome | undefined)[]> {
    await Promise.all(
      wrote.map(({ redisKey, written }) => {
        this.forget(redisKey, written.fencingToken);
        return this.roundTrip(() => runScript(this.client, COMPARE_AND_DELETE_SCRIPT, [redisKey], [written.bytes] as never));
      }),
    );
    return outcomes.fill(undefined);
  }

  /**
   * Claims one identity with a native SET, or answers its refusal from the value it met;
   * undefined when the store script must judge the claim.
   */
  claim(request: ClaimRequest, redisKey: string): Promise<ClaimOutcome | undefined> {
    if (!this.supported) return TO_THE_SCRIPT;
    const now = this.now();
    const { written, px } = this.fresh(request, now);
    // A `then` rather than an async frame: with promise hooks on (any AsyncLocalStorage), every
    // frame and await is a promise more, and this is on the way of nearly every delivery.
    return this.roundTrip(() => this.client.callBuffer('SET', redisKey, written.bytes, 'PX', px, 'NX', 'GET')).then(
      (reply) => this.answer(request, redisKey, written, reply),
      (error: unknown) => {
        if (!isReplyError(error)) throw error;
        this.noteRefused(error as Error);
        return undefined;
      },
    );
  }

  /** What the SET's reply means: the claim written (null), a refusal read from the value met, or undefined for the script. */
  private answer(request: ClaimRequest, redisKey: string, written: Written, reply: unknown): ClaimOutcome | undefined {
    const settled = this.settle(request, redisKey, written, reply);
    return settled === FOREIGN ? undefined : settled;
  }

  /** {@link answer}, telling a value that is not the store's ({@link FOREIGN}) from one the script must judge. */
  private settle(request: ClaimRequest, redisKey: string, written: Written, reply: unknown): ClaimOutcome | undefined | typeof FOREIGN {
    const { fencingToken: token, claimed } = written;
    const now = claimed.claimedAt;
    if (reply === null) {
      this.remember(redisKey, written);
      return { acquired: true, fencingToken: token, record: newClaimRecord(request, token, now) };
    }
    if (!Buffer.isBuffer(reply)) return FOREIGN;
    const occurrences = decodeHistory(request.key, reply);
    if (occurrences === undefined) return FOREIGN;
    const refusal = refusalOf([judgeIdentity(occurrences, identitiesOf(request)[0]!, request, now)]);
    return refusal === undefined ? undefined : { acquired: false, record: refusal };
  }

  /**
   * Completes a claim this client wrote with {@link claim}, if the key still holds what it wrote;
   * false when the store script must do it (anything else happened to the key, or it is unknown here).
   */
  complete(request: CompleteRequest, redisKey: string): Promise<boolean> {
    const swap = this.swapOf(request, redisKey, this.now());
    if (swap === undefined) return NOT_WRITTEN_HERE;
    // A `then`, not an async frame (see claim).
    return this.roundTrip(() => runScript(this.client, COMPARE_AND_SET_SCRIPT, [redisKey], swap as never)).then(isSwapped);
  }

  /**
   * Completes, with one pipeline of compare-and-sets, the claims of a batch this client wrote
   * (`redisKeys[i]` undefined: not a single-identity completion); per request, whether it
   * completed here. The others — not written here, or the key holds anything else — are left to
   * the store script, which completes them or says why not. When the pipeline's replies are lost
   * nothing is known of them, so every request is left to the script: one whose compare-and-set
   * landed then meets its own completion, which core takes for the completion it is.
   */
  completeMany(requests: readonly CompleteRequest[], redisKeys: readonly (string | undefined)[]): Promise<boolean[]> {
    const done = new Array<boolean>(requests.length).fill(false);
    const now = this.now();
    const sent: { index: number; redisKey: string; swap: [Buffer, Buffer, string] }[] = [];
    requests.forEach((request, index) => {
      const redisKey = redisKeys[index];
      const swap = redisKey === undefined ? undefined : this.swapOf(request, redisKey, now);
      if (swap !== undefined) sent.push({ index, redisKey: redisKey!, swap });
    });
    // No claim of the batch was written here: nothing to send, the script completes them all.
    if (sent.length === 0) return Promise.resolve(done);
    return this.pipelined(sent.map(({ redisKey, swap }) => ['EVALSHA', COMPARE_AND_SET_SCRIPT.sha, '1', redisKey, ...swap])).then(
      async (replies) => {
        if (replies === undefined) return done;
        const unloaded: Promise<void>[] = [];
        sent.forEach(({ index, redisKey, swap }, j) => {
          const [error, reply] = replies[j]!;
          if (error === null || error === undefined) {
            done[index] = isSwapped(reply);
          } else if (error.message.startsWith('NOSCRIPT')) {
            // A server that has not loaded the script yet (new, flushed, failed over): sent once
            // more on its own, which loads it, so the next batch's pipeline finds it.
            unloaded.push(
              this.roundTrip(() => runScript(this.client, COMPARE_AND_SET_SCRIPT, [redisKey], swap as never)).then(
                (swapped) => void (done[index] = isSwapped(swapped)),
                // Not known to have landed: the store script decides.
                () => undefined,
              ),
            );
          }
        });
        await Promise.all(unloaded);
        return done;
      },
      () => done,
    );
  }

  /**
   * Sends `commands` as one pipeline, in one round trip; their replies in order, or undefined
   * when the replies cannot be matched to the commands (never for a pipeline ioredis ran).
   */
  private pipelined(commands: readonly (string | Buffer)[][]): Promise<[Error | null, unknown][] | undefined> {
    const pipeline = (this.client as PipelineClient).pipeline();
    for (const [command, ...args] of commands) pipeline.callBuffer(command as string, ...args);
    return this.roundTrip(() => pipeline.exec()).then((replies) => (replies === null || replies.length !== commands.length ? undefined : replies));
  }

  /**
   * The compare-and-set that completes `request`'s claim, if this client wrote it with the native
   * claim and it is still within its retention: the bytes written, the completed value, its PX.
   * Forgets the claim either way: a retry of this completion goes through the script.
   */
  private swapOf(request: CompleteRequest, redisKey: string, now: number): [Buffer, Buffer, string] | undefined {
    if (request.also !== undefined && request.also.length > 0) return undefined;
    const written = this.written.get(redisKey);
    if (written === undefined || written.fencingToken !== request.fencingToken) return undefined;
    this.written.delete(redisKey);
    // Past its retention a claim is refused by the script, even if the server still holds it.
    if (written.expiresAt <= now) return undefined;
    const completed = packOne(2, request.fencingToken, written.claimed, now + request.retentionMs, request.result);
    return [written.bytes, completed, String(request.retentionMs + this.graceMs)];
  }

  /** Drops what was remembered of a claim whose value is about to change (released, extended). */
  forget(redisKey: string, fencingToken: number): void {
    if (this.written.get(redisKey)?.fencingToken === fencingToken) this.written.delete(redisKey);
  }

  private remember(redisKey: string, written: Written): void {
    // Deleted first, so a replaced claim's key moves to the end of the insertion order (the oldest go first).
    this.written.delete(redisKey);
    if (this.written.size >= MAX_WRITTEN) this.written.delete(this.written.keys().next().value!);
    this.written.set(redisKey, written);
  }
}

/**
 * The live and dead occurrences of a stored value, absolute times restored (the script's
 * `absolute_history`); undefined when the value is not the store's.
 */
function decodeHistory(key: string, bytes: Buffer): IdempotencyRecord[] | undefined {
  let value: PackedValue;
  try {
    value = unpack(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || typeof value[0] !== 'number') return undefined;
  const records: IdempotencyRecord[] = [];
  for (let i = 1; i < value.length; i++) {
    const o = value[i];
    if (!Array.isArray(o) || (o[0] !== 1 && o[0] !== 2)) return undefined;
    const [status, token, lease, expires, claimedAt, anchor, fingerprint, owner, result] = o;
    if (typeof token !== 'number' || typeof lease !== 'number' || typeof expires !== 'number' || typeof claimedAt !== 'number') return undefined;
    // Stored relative to claimedAt (lua/occurrences.ts): token − claimedAt × 1000, both expiries − claimedAt.
    records.push(occurrenceRecord(key, status, token + claimedAt * 1000, lease + claimedAt, expires + claimedAt, claimedAt, { anchor, fingerprint, owner, result }));
  }
  return records;
}
