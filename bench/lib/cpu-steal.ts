import { readFileSync } from 'node:fs';

/** The whole machine's CPU time counters (the first line of /proc/stat), in clock ticks. */
export interface CpuTimes {
  steal: number;
  total: number;
}

/** Reads the machine's CPU time counters; undefined where there is no /proc/stat (not Linux). */
export function cpuTimes(readStat: () => string = () => readFileSync('/proc/stat', 'utf8')): CpuTimes | undefined {
  let line: string;
  try {
    line = readStat().split('\n', 1)[0]!;
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal (guest time is counted in user already)
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((tick) => !Number.isFinite(tick))) return undefined;
  return { steal: ticks[7]!, total: ticks.reduce((sum, tick) => sum + tick, 0) };
}

/**
 * The share of CPU time, in per cent, the hypervisor gave to other guests while this machine's
 * vCPUs were ready to run (steal) between two readings. On a shared VM it is one reason a run is
 * slower than the next: it slows every contender's client and every server alike.
 */
export function stealPercent(from: CpuTimes | undefined, to: CpuTimes | undefined): number | undefined {
  if (from === undefined || to === undefined || to.total <= from.total) return undefined;
  return (100 * (to.steal - from.steal)) / (to.total - from.total);
}
