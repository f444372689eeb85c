/**
 * Runs `task` for every item with at most `limit` tasks in flight. Items that share a key — any
 * of `keysOf(item)`, directly or through other items — run one after another in their original
 * order, so a later one sees what an earlier one wrote; unrelated items run in parallel. Every
 * task settles; results are in input order.
 */
export async function settleByKeys<T, R>(
  items: readonly T[],
  keysOf: (item: T) => readonly string[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<Array<PromiseSettledResult<R>>> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  const queue = chains(items, keysOf);
  const worker = async (): Promise<void> => {
    for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
      for (const index of chain) {
        try {
          results[index] = { status: 'fulfilled', value: await task(items[index]!, index) };
        } catch (reason) {
          results[index] = { status: 'rejected', reason };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  return results;
}

/** Item indexes grouped by shared keys (union-find over keys), each group in input order, groups by first item. */
function chains<T>(items: readonly T[], keysOf: (item: T) => readonly string[]): number[][] {
  const parent = items.map((_, index) => index);
  const root = (index: number): number => {
    while (parent[index] !== index) index = parent[index] = parent[parent[index]!]!;
    return index;
  };
  const owner = new Map<string, number>();
  items.forEach((item, index) => {
    for (const key of keysOf(item)) {
      const other = owner.get(key);
      if (other === undefined) {
        owner.set(key, index);
        continue;
      }
      // Union by the smaller root: a group's root is then its first item.
      const [a, b] = [root(index), root(other)];
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  });
  const groups = new Map<number, number[]>();
  items.forEach((_, index) => {
    const group = root(index);
    const members = groups.get(group);
    if (members === undefined) groups.set(group, [index]);
    else members.push(index);
  });
  return [...groups.values()];
}
