import { describe, expect, it } from 'vitest';
import { planBatch, planCalls } from '../src/batches.js';

describe('planCalls', () => {
  it('keeps one group on a standalone server, cut into chunks in request order', () => {
    expect(planCalls(5, undefined, 2)).toEqual([[[0, 1], [2, 3], [4]]]);
  });

  it('groups by slot, keeping request order inside each group', () => {
    expect(planCalls(5, [7, 3, 7, 3, 9], 10)).toEqual([[[0, 2]], [[1, 3]], [[4]]]);
  });
});

describe('planBatch', () => {
  const call = (...indexes: number[]) => ({ kind: 'call', indexes });
  const spread = (index: number) => ({ kind: 'spread', index });

  it('is one phase of per-slot calls when every item lives in one slot, repeated keys included', () => {
    const plan = planBatch([[1], [2, 2], [1]], [['a'], ['b', 'c'], ['a']], 256);
    expect(plan).toEqual([[[call(0, 2)], [call(1)]]]);
  });

  it('runs items spread over slots in waves: an item after the last earlier item sharing a key', () => {
    // 0 spreads over slots 1 and 2; 1 and 3 share a key with it; 2 and 4 share none.
    const plan = planBatch(
      [[1, 2], [2], [3], [1], [1, 3]],
      [['a', 'b'], ['b'], ['c'], ['a'], ['d', 'e']],
      256,
    );
    expect(plan).toEqual([
      [[call(2)], [spread(0)], [spread(4)]],
      [[call(1)], [call(3)]],
    ]);
  });
});
