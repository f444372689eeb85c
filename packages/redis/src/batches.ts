/**
 * Plans the script calls for a batch: item indexes grouped so each group may go in one call
 * (one group per Cluster slot, or a single group on a standalone server), each group cut into
 * chunks of at most `maxPerCall` items, request order kept inside a group.
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
 * Runs a plan: groups concurrently (each is one round trip to its node), the chunks of one
 * group one after another so a key repeated in the batch is seen in request order.
 * Returns the per-item results in item order.
 */
export async function runPlan<T>(
  count: number,
  plan: readonly (readonly number[][])[],
  call: (indexes: readonly number[]) => Promise<readonly T[]>,
): Promise<T[]> {
  const results = new Array<T>(count);
  await Promise.all(
    plan.map(async (chunks) => {
      for (const indexes of chunks) {
        const replies = await call(indexes);
        indexes.forEach((index, j) => {
          results[index] = replies[j]!;
        });
      }
    }),
  );
  return results;
}
