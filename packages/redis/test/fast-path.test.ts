import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { manualClock } from '@idemkit/core/testing';
import { RedisStore } from '../src/index.js';
import { pack, unpack, PackError, type PackedValue } from '../src/msgpack.js';
import { close, runPrefix, standaloneClient, uniqueKey } from './support/clients.js';
import { decodeValue } from './support/decode-value.js';
import { names, recordCommands } from './support/command-log.js';
import { COMPARE_AND_SET_SCRIPT, WRITE_SCRIPT } from '../src/scripts.js';

// The fast path (src/fast-path.ts) writes and reads the store's values in JavaScript; the scripts
// read and write them with Redis' cmsgpack. Both must agree byte for byte on meaning.

const admin = standaloneClient();
afterAll(() => close(admin));

/** What cmsgpack makes of bytes: unpacked and packed again by the server. */
const throughServer = async (bytes: Buffer): Promise<Buffer> =>
  (await admin.callBuffer('EVAL', 'return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))', '0', bytes)) as Buffer;

// Lua numbers are doubles and its tables have no holes: the values the store keeps are of this kind.
const packable: fc.Arbitrary<PackedValue> = fc.letrec<{ value: PackedValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
      fc.constantFrom(0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, 1_764_668_000_123, 1_764_668_000_123_000, 2 ** 53 - 1),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    ),
    fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(200), 'y'.repeat(70_000))),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 20 }),
  ),
})).value;

describe('the MessagePack of the fast path and cmsgpack', () => {
  it('agree on every value the store keeps: ours decodes in Lua to what it meant, and the server’s bytes decode back', async () => {
    await fc.assert(
      fc.asyncProperty(packable, async (value) => {
        const bytes = pack(value);
        expect(unpack(bytes)).toEqual(value);
        expect(unpack(await throughServer(bytes))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('reads every 64-bit integer as Number() of its BigInt would, beyond 2^53 too', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(), (bits, signed) => {
        const bytes = Buffer.alloc(9);
        bytes[0] = signed ? 0xd3 : 0xcf;
        bytes.writeBigUInt64BE(bits, 1);
        const exact = signed ? bytes.readBigInt64BE(1) : bytes.readBigUInt64BE(1);
        expect(unpack(bytes)).toBe(Number(exact));
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses bytes that are not MessagePack of that subset, so the key is judged foreign', () => {
    for (const bytes of [Buffer.from('not msgpack'), Buffer.from([0x92, 0x01]), Buffer.from([0xc1]), Buffer.from([0x81, 0x01, 0x02]), Buffer.alloc(0)]) {
      expect(() => unpack(bytes), bytes.toString('hex')).toThrow(PackError);
    }
    // Nesting far deeper than the store's two levels is refused before it can exhaust the stack.
    expect(() => unpack(Buffer.alloc(100_000, 0x91))).toThrow(PackError);
  });
});

describe('the fast path on the real server', () => {
  const clock = manualClock();

  it('writes the value the claim script would: the script reads, extends and completes it', async () => {
    const client = standaloneClient();
    const store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    try {
      const key = uniqueKey('script-reads-fast');
      const claimed = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000, owner: 'req-1', fingerprint: 'fp', window: { at: 12.25, windowMs: 5 } });
      if (!claimed.acquired) throw new Error('expected the claim to acquire');
      // The script's read of the fresh value (get) and its write of it (extendLease) agree with the claim.
      expect(await store.get(key)).toEqual(claimed.record);
      clock.advance(1_000);
      await store.extendLease({ key, fencingToken: claimed.fencingToken, leaseMs: 10_000 });
      expect(await store.get(key)).toEqual({ ...claimed.record, leaseExpiresAt: clock.now() + 10_000 });
      // A refusal read by the fast path equals the script's own answer.
      const refused = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000, owner: 'req-2', window: { at: 14, windowMs: 5 } });
      expect(refused).toEqual({ acquired: false, record: await store.get(key) });
    } finally {
      await close(client);
    }
  });

  it('falls back to the script for good when the server refuses SET … NX GET (Redis before 7.0)', async () => {
    const client = standaloneClient();
    let refusedSets = 0;
    const old = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'callBuffer') {
          return async () => {
            refusedSets++;
            throw Object.assign(new Error('ERR syntax error'), { name: 'ReplyError' });
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new RedisStore({ client: old, prefix: runPrefix(), clock: clock.now });
    try {
      const key = uniqueKey('old-server');
      const first = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
      expect(first.acquired).toBe(true);
      if (!first.acquired) return;
      await store.complete({ key, fencingToken: first.fencingToken, result: '"r"', retentionMs: 60_000 });
      expect(await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 })).toMatchObject({ acquired: false, record: { status: 'completed', result: '"r"' } });
      expect(await store.claim({ key: uniqueKey('old-server-2'), leaseMs: 10_000, retentionMs: 60_000 })).toMatchObject({ acquired: true });
      expect(refusedSets).toBe(1);
    } finally {
      await close(client);
    }
  });

  it('never writes over a value it did not recognise: a foreign string is left as it was', async () => {
    const client = standaloneClient();
    const store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    try {
      const key = uniqueKey('foreign-kept');
      await admin.set(store.redisKey(key), 'someone else’s');
      await expect(store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 })).rejects.toMatchObject({ name: 'ForeignValueError' });
      expect(await admin.get(store.redisKey(key))).toBe('someone else’s');
    } finally {
      await close(client);
    }
  });

  it('a completion that finds its key changed since the claim (taken over after the lease) is refused by the script', async () => {
    const client = standaloneClient();
    const other = standaloneClient();
    const store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    const rival = new RedisStore({ client: other, prefix: runPrefix(), clock: clock.now });
    try {
      const key = uniqueKey('cas-lost');
      const mine = await store.claim({ key, leaseMs: 1_000, retentionMs: 60_000 });
      if (!mine.acquired) throw new Error('expected the claim to acquire');
      clock.advance(1_001);
      const theirs = await rival.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
      expect(theirs.acquired).toBe(true);
      await expect(store.complete({ key, fencingToken: mine.fencingToken, result: '"late"', retentionMs: 60_000 })).rejects.toMatchObject({ name: 'LeaseLostError' });
      // Only the rival's occurrence is left (the lapsed one was replaced), still in progress.
      expect(await decodeValue(admin, store.redisKey(key))).toHaveLength(2);
      expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: theirs.record.fencingToken });
    } finally {
      await Promise.all([close(client), close(other)]);
    }
  });
});

describe("a batch's native claims: one pipeline, the rest to the script", () => {
  const clock = manualClock();
  const claimOf = (key: string, owner?: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000, ...(owner === undefined ? {} : { owner }) });

  it('answers fresh keys, completed keys and running claims from the pipeline alone, a repeat by its earlier item', async () => {
    const client = standaloneClient();
    const log = recordCommands(client);
    const store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    try {
      const [done, running, fresh] = [uniqueKey('b-done'), uniqueKey('b-running'), uniqueKey('b-fresh')];
      const first = await store.claim(claimOf(done));
      if (!first.acquired) throw new Error('expected the claim to acquire');
      await store.complete({ key: done, fencingToken: first.fencingToken, result: '"r"', retentionMs: 60_000 });
      await store.claim(claimOf(running, 'someone-else'));
      let outcomes: Awaited<ReturnType<typeof store.claimMany>> = [];
      const sent = await log.during(async () => {
        outcomes = await store.claimMany([claimOf(done, 'me/0'), claimOf(running, 'me/1'), claimOf(fresh, 'me/2'), claimOf(fresh, 'me/3')]);
      });
      expect(names(sent)).toEqual(['set', 'set', 'set', 'set']);
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual([false, false, true, false]);
      expect(outcomes[0]!.record).toMatchObject({ status: 'completed', result: '"r"' });
      expect(outcomes[1]!.record).toMatchObject({ status: 'in_progress', owner: 'someone-else' });
      // The repeat met its earlier item's claim, as the script judging the batch in order would.
      expect(outcomes[3]!.record).toEqual(outcomes[2]!.record);
      // What the pipeline wrote is what the script reads.
      expect(await store.get(fresh)).toEqual(outcomes[2]!.record);
    } finally {
      await close(client);
    }
  });

  it('sends a lapsed claim to the script, which takes it over, and completes pipeline claims by compare-and-set', async () => {
    const client = standaloneClient();
    const log = recordCommands(client);
    const store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    try {
      const [lapsed, fresh] = [uniqueKey('b-lapsed'), uniqueKey('b-fresh2')];
      const old = await store.claim({ ...claimOf(lapsed, 'crashed'), leaseMs: 1_000 });
      if (!old.acquired) throw new Error('expected the claim to acquire');
      clock.advance(1_001);
      let outcomes: Awaited<ReturnType<typeof store.claimMany>> = [];
      const sent = await log.during(async () => {
        outcomes = await store.claimMany([claimOf(lapsed, 'me/0'), claimOf(fresh, 'me/1')]);
      });
      expect(names(sent)).toEqual(['set', 'set', 'evalsha']);
      expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
      expect(outcomes[0]!.record.fencingToken).toBeGreaterThan(old.fencingToken);
      const completed = await log.during(() =>
        store.complete({ key: fresh, fencingToken: outcomes[1]!.record.fencingToken, result: '"ok"', retentionMs: 60_000 }),
      );
      expect(completed.map((args) => args.slice(0, 2))).toEqual([['evalsha', COMPARE_AND_SET_SCRIPT.sha]]);
      expect(await store.get(fresh)).toMatchObject({ status: 'completed', result: '"ok"' });
    } finally {
      await close(client);
    }
  });

  it('when the script call after the pipeline gets no reply, releases what the pipeline claimed and says so', async () => {
    const client = standaloneClient();
    let lose = true;
    const lossy = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'evalsha') {
          return (...args: unknown[]) => {
            if (!lose) return (target.evalsha as (...a: unknown[]) => Promise<unknown>)(...args);
            lose = false;
            return Promise.reject(new Error('Connection is closed.'));
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new RedisStore({ client: lossy, prefix: runPrefix(), clock: clock.now });
    try {
      const [fresh, spread] = [uniqueKey('b-released'), uniqueKey('b-anyof')];
      const error = await store.claimMany([claimOf(fresh), { ...claimOf(spread), also: [{ key: `${spread}:also` }] }]).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toMatchObject({ name: 'PartialClaimError', released: [0], stillClaimed: [], unknown: [1] });
      expect(await store.get(fresh)).toBeUndefined();
    } finally {
      await close(client);
    }
  });

  it('completes the claims its pipeline wrote in one pipeline of compare-and-sets, and leaves the rest to the script', async () => {
    const client = standaloneClient();
    const other = standaloneClient();
    const log = recordCommands(client);
    const prefix = runPrefix();
    const store = new RedisStore({ client, prefix, clock: clock.now });
    const rival = new RedisStore({ client: other, prefix, clock: clock.now });
    try {
      const [mine, theirs, lost] = [uniqueKey('c-mine'), uniqueKey('c-theirs'), uniqueKey('c-lost')];
      const [a, c] = await store.claimMany([claimOf(mine), { ...claimOf(lost), leaseMs: 1_000 }]);
      const b = await rival.claim(claimOf(theirs));
      if (!a!.acquired || !b.acquired || !c!.acquired) throw new Error('expected every claim to acquire');
      // The lapsed claim of `lost` is taken over: its bytes are not what this client wrote any more.
      clock.advance(1_001);
      expect((await rival.claim(claimOf(lost, 'rival'))).acquired).toBe(true);
      let outcomes: Awaited<ReturnType<typeof store.completeMany>> = [];
      const sent = await log.during(async () => {
        outcomes = await store.completeMany([
          { key: mine, fencingToken: a!.fencingToken, result: '"a"', retentionMs: 60_000 },
          { key: theirs, fencingToken: b.fencingToken, result: '"b"', retentionMs: 60_000 },
          { key: lost, fencingToken: c!.fencingToken, result: '"c"', retentionMs: 60_000 },
        ]);
      });
      // The pipeline: a compare-and-set for each claim this client wrote; then one script call for the rest.
      expect(sent.map((args) => [args[0]!.toLowerCase(), args[1]])).toEqual([
        ['evalsha', COMPARE_AND_SET_SCRIPT.sha],
        ['evalsha', COMPARE_AND_SET_SCRIPT.sha],
        ['evalsha', WRITE_SCRIPT.sha],
      ]);
      expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, false]);
      expect(outcomes[2]).toMatchObject({ ok: false, error: { name: 'LeaseLostError' } });
      expect(await store.get(mine)).toMatchObject({ status: 'completed', result: '"a"' });
      expect(await store.get(theirs)).toMatchObject({ status: 'completed', result: '"b"' });
      expect(await store.get(lost)).toMatchObject({ status: 'in_progress', owner: 'rival' });
    } finally {
      await Promise.all([close(client), close(other)]);
    }
  });

  /** A client whose pipelines run `exec` through `replace` (given the real one). */
  const withPipelineExec = (client: ReturnType<typeof standaloneClient>, replace: (exec: () => Promise<unknown>) => Promise<unknown>) =>
    new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'pipeline') {
          return () => {
            const pipeline = target.pipeline();
            const exec = pipeline.exec.bind(pipeline);
            return Object.assign(pipeline, { exec: () => replace(exec) });
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

  it('when the compare-and-sets landed but their replies were lost, the script finds each completion its own', async () => {
    const client = standaloneClient();
    let lose = false;
    const lossy = withPipelineExec(client, async (exec) => {
      const replies = await exec();
      if (!lose) return replies;
      throw new Error('Connection is closed.');
    });
    const store = new RedisStore({ client: lossy, prefix: runPrefix(), clock: clock.now });
    try {
      const keys = [uniqueKey('c-lost-reply-1'), uniqueKey('c-lost-reply-2')];
      const claims = await store.claimMany(keys.map((key) => claimOf(key)));
      lose = true;
      const outcomes = await store.completeMany(
        claims.map((claim, i) => ({ key: keys[i]!, fencingToken: claim.record.fencingToken, result: `"${i}"`, retentionMs: 60_000 })),
      );
      // Landed, and answered as a completion that landed before (what core takes for done), never as another holder's.
      outcomes.forEach((outcome, i) => {
        expect(outcome).toMatchObject({
          ok: false,
          error: { name: 'LeaseLostError', current: { status: 'completed', result: `"${i}"`, fencingToken: claims[i]!.record.fencingToken } },
        });
      });
    } finally {
      await close(client);
    }
  });

  it('a server that has not loaded the compare-and-set script answers NOSCRIPT: each is sent once more on its own, and completes', async () => {
    const client = standaloneClient();
    const log = recordCommands(client);
    let unloaded = false;
    // The replies a server without the script gives; nothing is sent (the shared server is never flushed).
    const fresh = withPipelineExec(client, async (exec) =>
      unloaded ? [[Object.assign(new Error('NOSCRIPT No matching script. Please use EVAL.'), { name: 'ReplyError' }), null]] : exec(),
    );
    const store = new RedisStore({ client: fresh, prefix: runPrefix(), clock: clock.now });
    try {
      const key = uniqueKey('c-noscript');
      const [claim] = await store.claimMany([claimOf(key)]);
      unloaded = true;
      let outcomes: Awaited<ReturnType<typeof store.completeMany>> = [];
      const sent = await log.during(async () => {
        outcomes = await store.completeMany([{ key, fencingToken: claim!.record.fencingToken, result: '"once"', retentionMs: 60_000 }]);
      });
      expect(outcomes).toEqual([{ ok: true }]);
      expect(sent.map((args) => args.slice(0, 2))).toEqual([['evalsha', COMPARE_AND_SET_SCRIPT.sha]]);
      expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"once"' });
    } finally {
      await close(client);
    }
  });
});
