// Plans the script calls of a batch. Items are judged in request order against what earlier items
// did, so two items that share a key must run in order; items that share none may run at once.

/** One step of a plan: a script call for items of one slot, or one item whose identities span slots. */
export type Step = { kind: 'call'; indexes: number[] } | { kind: 'spread'; index: number };

/** Steps of a lane run one after another; the lanes of a phase run at once; phases run in order. */
export type Plan = Step[][][];

/**
 * Groups item indexes so each group may go in one call (one group per Cluster slot, or a single
 * group on a standalone server), each group cut into chunks of at most `maxPerCall` items,
 * request order kept inside a group.
 *
 * @param slots each item's Cluster slot, or undefined on a standalone server
 */
export function planCalls(count: number, slots: readonly number[] | undefined, maxPerCall: number): number[][][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const slot = slots?.[i] ?? 0;
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [i]);
    else group.push(i);
  }
  return [...groups.values()].map((indexes) => {
    const chunks: number[][] = [];
    for (let start = 0; start < indexes.length; start += maxPerCall) {
      chunks.push(indexes.slice(start, start + maxPerCall));
    }
    return chunks;
  });
}

/**
 * Plans a batch whose items each have identities on one or more slots (`slotsOf`, `keysOf` per item).
 * When every item lives in one slot, one phase of per-slot calls (a key repeated in the batch shares
 * its slot, so its call keeps the order). Otherwise the batch runs in waves: an item goes in the
 * wave after the last earlier item that shares a key with it, and inside a wave the one-slot items
 * are grouped per slot while each spread item runs on its own.
 */
export function planBatch(slotsOf: readonly (readonly number[])[], keysOf: readonly (readonly string[])[], maxPerCall: number): Plan {
  const slotOf = slotsOf.map((slots) => (slots.every((slot) => slot === slots[0]) ? slots[0]! : undefined));
  if (slotOf.every((slot) => slot !== undefined)) return [callLanes(slotOf.map((_, i) => i), slotOf as number[], maxPerCall)];
  const waveOf: number[] = [];
  const lastWaveOfKey = new Map<string, number>();
  keysOf.forEach((keys, i) => {
    const wave = Math.max(-1, ...keys.map((key) => lastWaveOfKey.get(key) ?? -1)) + 1;
    waveOf.push(wave);
    for (const key of keys) lastWaveOfKey.set(key, wave);
  });
  const plan: Plan = [];
  for (let wave = 0; wave <= Math.max(...waveOf); wave++) {
    const members = waveOf.flatMap((w, i) => (w === wave ? [i] : []));
    const together = members.filter((i) => slotOf[i] !== undefined);
    const spread = members.filter((i) => slotOf[i] === undefined);
    plan.push([...callLanes(together, slotOf as number[], maxPerCall), ...spread.map((index): Step[] => [{ kind: 'spread', index }])]);
  }
  return plan;
}

function callLanes(indexes: readonly number[], slotOf: readonly number[], maxPerCall: number): Step[][] {
  const groups = planCalls(indexes.length, indexes.map((i) => slotOf[i]!), maxPerCall);
  return groups.map((chunks) => chunks.map((chunk): Step => ({ kind: 'call', indexes: chunk.map((j) => indexes[j]!) })));
}

/**
 * Runs a plan: phases in order, the lanes of a phase at once, the steps of a lane in order.
 * `run` records its own failures; once `stop()` says so, no further step starts.
 */
export async function runPlan(plan: Plan, run: (step: Step) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  for (const lanes of plan) {
    await Promise.all(
      lanes.map(async (steps) => {
        for (const step of steps) {
          if (stop()) return;
          await run(step);
        }
      }),
    );
    if (stop()) return;
  }
}
