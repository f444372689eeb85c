import { describe, expect, it } from 'vitest';
import { cpuTimes, stealPercent } from '../lib/cpu-steal.js';

// The bench reports the hypervisor's share of CPU time per store, read from /proc/stat.
const stat = (user: number, idle: number, steal: number) => `cpu  ${user} 0 100 ${idle} 10 0 20 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n`;

describe('CPU steal', () => {
  it('is the steal ticks over all ticks between two readings of the first /proc/stat line', () => {
    const from = cpuTimes(() => stat(1000, 5000, 200));
    const to = cpuTimes(() => stat(1600, 5300, 300));
    expect(from).toEqual({ steal: 200, total: 1000 + 100 + 5000 + 10 + 20 + 200 });
    // 600 user + 300 idle + 100 steal ticks passed.
    expect(stealPercent(from, to)).toBeCloseTo(10, 10);
  });

  it('is unknown without /proc/stat, on a line it cannot read, or when no time passed', () => {
    const missing = cpuTimes(() => {
      throw new Error('ENOENT');
    });
    expect(missing).toBeUndefined();
    expect(cpuTimes(() => 'cpu 1 2 3\n')).toBeUndefined();
    expect(cpuTimes(() => 'cpu a b c d e f g h\n')).toBeUndefined();
    const same = cpuTimes(() => stat(1, 2, 3));
    expect(stealPercent(same, same)).toBeUndefined();
    expect(stealPercent(undefined, same)).toBeUndefined();
  });

  it('reads this machine where it runs on Linux', () => {
    const now = cpuTimes();
    if (process.platform !== 'linux') return expect(now).toBeUndefined();
    expect(now!.total).toBeGreaterThan(0);
    expect(now!.steal).toBeGreaterThanOrEqual(0);
  });
});
