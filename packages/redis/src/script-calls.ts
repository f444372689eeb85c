import type { ClaimRequest, ClaimWindow, IdempotencyRecord } from '@idemkit/core';
import { unexpectedReply } from './errors.js';
import { decodeOptionalRecord, decodeRecord } from './records.js';
import type { StoreOp } from './scripts.js';

// Encodes the store script's arguments (see lua/occurrences.ts) and decodes its replies, for one
// call: a list of items whose Redis keys all share one Cluster slot.

/** One identity of a request, placed: its Redis key and slot, and where it stands in the request. */
export interface Placed {
  /** 0 for the request's own key, i for `also[i − 1]`. */
  index: number;
  key: string;
  redisKey: string;
  slot: number;
  window?: ClaimWindow | undefined;
  /** For completions, releases and extensions: the identity's token. */
  fencingToken?: number;
}

/** Runs the store script once: operation, keys, the operation's arguments; answers the raw reply. */
export type RunScript = (op: StoreOp, keys: readonly string[], args: readonly string[]) => Promise<unknown>;

/** What one call answered about one item's identities. */
export type PieceClaim =
  | { acquired: true; tokens: number[]; now: number }
  | { acquired: false; identity: Placed; record: IdempotencyRecord };

/** A completion's or extension's answer for one item: done, or the first identity that was lost. */
export type PieceWrite = { ok: true } | { ok: false; identity: Placed; current?: IdempotencyRecord };

/** A prepared completion's state per identity. */
export type PreparedState =
  | { state: 'held' }
  | { state: 'done'; record: IdempotencyRecord }
  | { state: 'lost'; current?: IdempotencyRecord };

/** The keys and arguments of one call; items name keys by their index in KEYS. */
class CallArgs {
  readonly keys: string[] = [];
  readonly args: string[];
  private readonly indexes = new Map<string, string>();

  constructor(now: string, graceMs: string, items: number) {
    this.args = [now, graceMs, String(items)];
  }

  key(redisKey: string): string {
    let index = this.indexes.get(redisKey);
    if (index === undefined) {
      this.keys.push(redisKey);
      index = String(this.keys.length);
      this.indexes.set(redisKey, index);
    }
    return index;
  }
}

const text = (value: string | undefined) => (value === undefined ? '' : `=${value}`);

/** The script calls of one store: its clock and key grace come with every call. */
export class ScriptCalls {
  /**
   * @param now the store's time for the next call, as the script's ARGV ('' = the server's clock)
   */
  constructor(
    private readonly run: RunScript,
    private readonly now: () => string,
    private readonly graceMs: number,
  ) {}

  /** Claims (or, with `write` false, only judges) items of one slot, in order. */
  async claim(items: readonly { request: ClaimRequest; identities: readonly Placed[] }[], write: boolean): Promise<PieceClaim[]> {
    const call = this.args(items.length);
    for (const { request, identities } of items) {
      call.args.push(
        String(identities.length),
        String(request.leaseMs),
        String(Math.max(request.retentionMs, request.leaseMs)),
        text(request.fingerprint),
        text(request.owner),
      );
      for (const identity of identities) {
        call.args.push(
          call.key(identity.redisKey),
          identity.window === undefined ? '' : String(identity.window.at),
          identity.window === undefined ? '' : String(identity.window.windowMs),
        );
      }
    }
    const operation = write ? 'claim' : 'judge';
    const [now, replies] = await this.items(operation, call, items.length);
    return replies.map((reply, i) => {
      const identities = items[i]!.identities;
      if (reply[0] === 1) return { acquired: true, tokens: reply.slice(1) as number[], now };
      const identity = identities[(reply[1] as number) - 1];
      if (reply[0] !== 0 || identity === undefined) throw unexpectedReply(operation, reply);
      return { acquired: false, identity, record: decodeRecord(operation, identity.key, reply[2]) };
    });
  }

  /** Completes items of one slot, each all or nothing over its identities. */
  async complete(items: readonly { identities: readonly Placed[]; retentionMs: number; result?: string | undefined }[]): Promise<PieceWrite[]> {
    const call = this.args(items.length);
    for (const item of items) this.pushTokens(call, item.identities, String(item.retentionMs), text(item.result));
    const [, replies] = await this.items('complete', call, items.length);
    return replies.map((reply, i) => this.decodeWrite('complete', items[i]!.identities, reply));
  }

  /**
   * Checks that every identity of each item is still held, and when none is lost keeps their leases
   * running for `pinMs`, so the completion that follows cannot lose them to a take-over.
   */
  async prepare(items: readonly (readonly Placed[])[], pinMs: number): Promise<PreparedState[][]> {
    const call = this.args(items.length);
    for (const identities of items) this.pushTokens(call, identities, String(pinMs), '');
    const [, replies] = await this.items('prepare', call, items.length);
    return replies.map((states, i) =>
      states.map((state, j) => {
        const key = items[i]![j]!.key;
        if (state === 1) return { state: 'held' } as const;
        if (!Array.isArray(state)) throw unexpectedReply('prepare', state);
        if (state[0] === 2) return { state: 'done', record: decodeRecord('prepare', key, state[1]) } as const;
        const current = decodeOptionalRecord('prepare', key, state[1]);
        return current === undefined ? ({ state: 'lost' } as const) : ({ state: 'lost', current } as const);
      }),
    );
  }

  /** Extends (or, with `write` false, only checks) the leases of items of one slot, all or nothing per item. */
  async extend(items: readonly { identities: readonly Placed[]; leaseMs: number }[], write: boolean): Promise<PieceWrite[]> {
    const call = this.args(items.length);
    for (const item of items) {
      call.args.push(String(item.identities.length), String(item.leaseMs));
      for (const identity of item.identities) call.args.push(call.key(identity.redisKey), String(identity.fencingToken));
    }
    const operation = write ? 'extend' : 'check';
    const [, replies] = await this.items(operation, call, items.length);
    return replies.map((reply, i) => this.decodeWrite(operation, items[i]!.identities, reply));
  }

  /** Releases identities of one slot; whether each one's in-progress occurrence was deleted. */
  async release(identities: readonly Placed[]): Promise<boolean[]> {
    const call = this.args(identities.length);
    for (const identity of identities) call.args.push(call.key(identity.redisKey), String(identity.fencingToken));
    const [, replies] = await this.items('release', call, identities.length);
    return replies.map((reply) => (reply as unknown) === 1);
  }

  /** Reads the live occurrence a token names, or the latest one. */
  async get(key: string, redisKey: string, fencingToken: number | undefined): Promise<IdempotencyRecord | undefined> {
    const reply = await this.run('get', [redisKey], [this.now(), String(this.graceMs), fencingToken === undefined ? '' : String(fencingToken)]);
    if (!Array.isArray(reply)) throw unexpectedReply('get', reply);
    return decodeOptionalRecord('get', key, reply[1]);
  }

  /** Runs an ordering-guard operation on one entity key; answers the reply after the time. */
  async version(op: StoreOp, redisKey: string, args: readonly string[]): Promise<unknown[]> {
    const reply = await this.run(op, [redisKey], [this.now(), String(this.graceMs), ...args]);
    if (!Array.isArray(reply)) throw unexpectedReply(op, reply);
    return reply.slice(1);
  }

  private args(items: number): CallArgs {
    return new CallArgs(this.now(), String(this.graceMs), items);
  }

  private pushTokens(call: CallArgs, identities: readonly Placed[], duration: string, result: string): void {
    call.args.push(String(identities.length), duration, result);
    for (const identity of identities) call.args.push(call.key(identity.redisKey), String(identity.fencingToken));
  }

  /** Sends a call and splits its reply into the time it ran at and one reply per item. */
  private async items(op: StoreOp, call: CallArgs, count: number): Promise<[number, unknown[][]]> {
    const reply = await this.run(op, call.keys, call.args);
    if (!Array.isArray(reply) || reply.length !== count + 1 || typeof reply[0] !== 'number') throw unexpectedReply(op, reply);
    const items = reply.slice(1) as unknown[];
    if (op !== 'release' && !items.every(Array.isArray)) throw unexpectedReply(op, reply);
    return [reply[0], items as unknown[][]];
  }

  private decodeWrite(operation: string, identities: readonly Placed[], reply: unknown[]): PieceWrite {
    if (reply[0] === 1) return { ok: true };
    const identity = identities[(reply[1] as number) - 1];
    if (reply[0] !== 0 || identity === undefined) throw unexpectedReply(operation, reply);
    const current = decodeOptionalRecord(operation, identity.key, reply[2]);
    return current === undefined ? { ok: false, identity } : { ok: false, identity, current };
  }
}
