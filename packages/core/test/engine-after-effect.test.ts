import { describe, expect, it } from 'vitest';
import {
  IdempotencyEngine,
  IdempotencyResultEncodingError,
  MemoryStore,
  type IdempotencyLogger,
  type IdempotencyStore,
} from '../src/index.js';

// After the side effect, never rerun: every path where the handler ran but the bookkeeping
// failed ends with the event recorded as done, or with a typed error that says the effect happened.

const deepResult = () => {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < 20_000; i++) at = at['n'] = {} as Record<string, unknown>;
  return root;
};
const circular = () => {
  const value: Record<string, unknown> = { ok: true };
  value['self'] = value;
  return value;
};

describe('a result that cannot be encoded', () => {
  for (const [name, make] of [
    ['a BigInt', () => ({ amount: 10n })],
    ['a circular object', circular],
    ['nesting deeper than the encoder handles', deepResult],
  ] as const) {
    it(`${name}: the claim completes without the result and the handler never runs again`, async () => {
      const store = new MemoryStore();
      const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' } });
      let runs = 0;
      const handler = async () => {
        runs++;
        return make() as unknown;
      };
      const error = await engine.run({ id: 'e-1' }, handler).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(IdempotencyResultEncodingError);
      expect((error as Error).message).toContain('the handler ran');
      expect(await store.get(engine.keyFor({ id: 'e-1' }))).toMatchObject({ status: 'completed' });
      expect((await store.get(engine.keyFor({ id: 'e-1' })))?.result).toBeUndefined();
      // The redelivery is a duplicate: it answers undefined and does not run the handler.
      await expect(engine.run({ id: 'e-1' }, handler)).resolves.toBeUndefined();
      expect(runs).toBe(1);
    });
  }

  it("with onOversizeResult: 'skip', returns the handler's result and warns", async () => {
    const warnings: string[] = [];
    const logger: IdempotencyLogger = { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) };
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, onOversizeResult: 'skip', logger });
    const result = await engine.run({ id: 'e-2' }, async () => ({ amount: 10n }) as unknown);
    expect(result).toEqual({ amount: 10n });
    expect(warnings.some((message) => message.includes('not encodable'))).toBe(true);
  });

  it('in a batch, fails the item alone with the typed error, and its redelivery is a duplicate', async () => {
    const engine = new IdempotencyEngine<{ id: string }, unknown>({ store: new MemoryStore(), strategy: { strategy: 'eventId' } });
    let runs = 0;
    const handler = async (event: { id: string }) => {
      runs++;
      return (event.id === 'bad' ? { n: 1n } : 'ok') as unknown;
    };
    const items = [
      { id: 'm-1', event: { id: 'bad' } },
      { id: 'm-2', event: { id: 'good' } },
    ];
    const first = await engine.runBatch(items, handler);
    expect(first.map((outcome) => outcome.status)).toEqual(['failed', 'processed']);
    const again = await engine.runBatch(items, handler);
    expect(again.map((outcome) => outcome.status)).toEqual(['duplicate', 'duplicate']);
    expect(runs).toBe(2);
  });
});

describe('hooks and loggers that throw never fail a delivery', () => {
  const throwing = () => {
    throw new Error('metrics backend down');
  };
  const throwingLogger: IdempotencyLogger = { debug: throwing, info: throwing, warn: throwing, error: throwing };

  it('onOutcome, onDuplicate and the logger throwing: the side effect runs once and duplicates succeed', async () => {
    const errors: string[] = [];
    const engine = new IdempotencyEngine({
      store: new MemoryStore(),
      strategy: { strategy: 'eventId' },
      onOutcome: throwing,
      onDuplicate: throwing,
      logger: { ...throwingLogger, error: (message) => errors.push(message) },
    });
    let runs = 0;
    const handler = async () => ++runs;
    await expect(engine.run({ id: 'e-1' }, handler)).resolves.toBe(1);
    await expect(engine.run({ id: 'e-1' }, handler)).resolves.toBe(1);
    await expect(engine.run({ id: 'e-1' }, handler)).resolves.toBe(1);
    expect(runs).toBe(1);
    expect(errors.filter((message) => message.includes('hook threw')).length).toBeGreaterThanOrEqual(3);
  });

  it('an async hook that rejects is logged too, and a logger that throws everywhere changes nothing', async () => {
    const engine = new IdempotencyEngine({
      store: new MemoryStore(),
      strategy: { strategy: 'eventId' },
      onOutcome: async () => Promise.reject(new Error('async sink down')),
      logger: throwingLogger,
    });
    let runs = 0;
    await engine.run({ id: 'e-2' }, async () => ++runs);
    await engine.run({ id: 'e-2' }, async () => ++runs);
    expect(runs).toBe(1);
  });

  it('in a batch, a throwing hook fails no record', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, onOutcome: throwing, onDuplicate: throwing });
    const outcomes = await engine.runBatch(
      [
        { id: 'm-1', event: { id: 'a' } },
        { id: 'm-2', event: { id: 'a' } },
        { id: 'm-3', event: { id: 'b' } },
      ],
      async () => 'ok',
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['processed', 'duplicate', 'processed']);
  });
});

describe('a completion whose reply was lost', () => {
  it('is retried and recognised as our own, so the event is recorded once and never rerun', async () => {
    const inner = new MemoryStore();
    let cut = true;
    // The first complete lands on the store, but its reply is lost (a cut connection).
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'complete') {
          return async (...args: Parameters<IdempotencyStore['complete']>) => {
            await target.complete(...args);
            if (cut) {
              cut = false;
              throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
            }
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as IdempotencyStore;
    const engine = new IdempotencyEngine({ store, strategy: { strategy: 'eventId' } });
    let runs = 0;
    await expect(engine.run({ id: 'e-1' }, async () => ++runs)).resolves.toBe(1);
    await expect(engine.run({ id: 'e-1' }, async () => ++runs)).resolves.toBe(1);
    expect(runs).toBe(1);
  });
});
