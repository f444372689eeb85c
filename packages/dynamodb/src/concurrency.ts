/**
 * Runs `task` for every item with at most `limit` tasks in flight. Items that share a key run
 * one after another in their original order (so the second sees what the first wrote); items
 * with different keys run in parallel. Every task settles; results are in input order.
 */
export async function settleByKey<T, R>(
  items: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<Array<PromiseSettledResult<R>>> {
  const chains = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const chain = chains.get(key);
    if (chain === undefined) chains.set(key, [index]);
    else chain.push(index);
  });

  const results = new Array<PromiseSettledResult<R>>(items.length);
  const queue = [...chains.values()];
  const worker = async (): Promise<void> => {
    for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
      for (const index of chain) {
        try {
          results[index] = { status: 'fulfilled', value: await task(items[index]!) };
        } catch (reason) {
          results[index] = { status: 'rejected', reason };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  return results;
}
