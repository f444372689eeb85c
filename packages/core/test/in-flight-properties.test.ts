import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, IdempotencyInProgressError, MemoryStore } from '../src/index.js';
import { manualClock } from '../src/testing/index.js';
import { lockstepTimers } from './support/lockstep-timers.js';

// Streams of deliveries of a few logical events, arriving at random (virtual) times, with handlers
// that take random time — often several leases — and sometimes fail. Waiting duplicates and the
// heartbeat on; everything on one virtual clock, so no real time passes.

const LEASE_MS = 1_000;

interface Delivery {
  event: number;
  arriveAtMs: number;
  handlerMs: number;
  fails: boolean;
}

const deliveryArb = fc.record({
  event: fc.integer({ min: 0, max: 2 }),
  arriveAtMs: fc.integer({ min: 0, max: 6_000 }),
  handlerMs: fc.integer({ min: 0, max: 4 * LEASE_MS }),
  fails: fc.boolean(),
});

interface Run {
  event: number;
  startMs: number;
  endMs?: number;
  ok?: boolean;
  result: string;
}

async function play(deliveries: Delivery[], waitMs: number) {
  const clock = manualClock(1_800_000_000_000);
  const timers = lockstepTimers(clock);
  const store = new MemoryStore({ clock: clock.now });
  const engine = new IdempotencyEngine<{ id: string; n: number }, string>({
    store,
    strategy: { strategy: 'eventId' },
    clock: clock.now,
    sleep: timers.sleep,
    leaseMs: LEASE_MS,
    heartbeat: true,
    inProgress: { wait: { maxMs: waitMs, pollMs: 50 } },
  });
  const runs: Run[] = [];
  const answers = deliveries.map(async (delivery, index) => {
    await timers.sleep(delivery.arriveAtMs);
    return engine.run({ id: `event-${delivery.event}`, n: index }, async () => {
      const run: Run = { event: delivery.event, startMs: clock.now(), result: `run ${runs.length} of event ${delivery.event}` };
      runs.push(run);
      await timers.sleep(delivery.handlerMs);
      run.endMs = clock.now();
      run.ok = !delivery.fails;
      if (delivery.fails) throw new Error(`handler of delivery ${index} failed`);
      return run.result;
    });
  });
  const settled = Promise.allSettled(answers);
  await timers.drain(settled);
  return { runs, answers: await settled, timers };
}

describe('in-flight duplicates and heartbeats, over generated streams', () => {
  it('a logical event never has two handlers running at once, never runs after it succeeded, and every success is that run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(deliveryArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 5_000 }), async (deliveries, waitMs) => {
        const { runs, answers, timers } = await play(deliveries, Math.max(50, waitMs));
        for (const event of [0, 1, 2]) {
          const ofEvent = runs.filter((run) => run.event === event).sort((a, b) => a.startMs - b.startMs);
          for (let i = 1; i < ofEvent.length; i++) {
            // Runs one after another: the next starts no earlier than the last ended, and only after a failure.
            expect(ofEvent[i]!.startMs).toBeGreaterThanOrEqual(ofEvent[i - 1]!.endMs!);
            expect(ofEvent[i - 1]!.ok).toBe(false);
          }
          const succeeded = ofEvent.filter((run) => run.ok);
          expect(succeeded.length).toBeLessThanOrEqual(1);
          answers.forEach((answer, index) => {
            if (deliveries[index]!.event !== event) return;
            if (answer.status === 'fulfilled') expect(answer.value).toBe(succeeded[0]?.result);
            else expect(answer.reason instanceof IdempotencyInProgressError || /handler of delivery \d+ failed/.test(String(answer.reason))).toBe(true);
          });
        }
        expect(timers.pending).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('a duplicate that waits at least as long as the first handler takes gets its result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 * LEASE_MS }),
        fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 1, maxLength: 8 }),
        async (handlerMs, arrivals) => {
          const deliveries: Delivery[] = [
            { event: 0, arriveAtMs: 0, handlerMs, fails: false },
            ...arrivals.map((arriveAtMs) => ({ event: 0, arriveAtMs, handlerMs, fails: false })),
          ];
          // Each duplicate may wait up to the whole handler's time (plus a final poll's backoff).
          const { runs, answers } = await play(deliveries, handlerMs + 8 * 50);
          expect(runs).toHaveLength(1);
          for (const answer of answers) expect(answer).toEqual({ status: 'fulfilled', value: runs[0]!.result });
        },
      ),
      { numRuns: 100 },
    );
  });
});
