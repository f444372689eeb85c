// Latency samples and what the tables print from them.

/** Summary of one measured run. */
export interface RunStats {
  /** Events handled in the measured phase. */
  events: number;
  /** Calls made (an SQS batch is one call of ten events). */
  calls: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Latency of one call, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Store round trips counted at the client, per event. */
  roundTripsPerEvent: number;
}

/** Accumulates samples from several short rounds (contenders are interleaved round by round). */
export class Samples {
  private readonly latencies: number[] = [];
  private events = 0;
  private elapsedMs = 0;
  private roundTrips = 0;

  add(round: { latencies: number[]; events: number; elapsedMs: number; roundTrips: number }): void {
    for (const latency of round.latencies) this.latencies.push(latency);
    this.events += round.events;
    this.elapsedMs += round.elapsedMs;
    this.roundTrips += round.roundTrips;
  }

  summary(): RunStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      events: this.events,
      calls: sorted.length,
      elapsedMs: this.elapsedMs,
      eventsPerSecond: this.elapsedMs === 0 ? 0 : (this.events * 1000) / this.elapsedMs,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      roundTripsPerEvent: this.events === 0 ? 0 : this.roundTrips / this.events,
    };
  }
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Milliseconds since `start` (a `process.hrtime.bigint()` reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
