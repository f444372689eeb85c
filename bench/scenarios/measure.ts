import type { Contender } from '../contenders/types.js';
import { msSince, Samples, type RunStats } from '../lib/stats.js';
import type { Scenario } from './types.js';

/** How long each contender runs per round, and how many rounds are interleaved. */
export interface MeasureOptions {
  warmupMs: number;
  roundMs: number;
  rounds: number;
}

/** One contender's numbers in one scenario. */
export interface ScenarioResult {
  scenario: string;
  contender: Contender['name'];
  stats: RunStats;
  /** A correctness note from the scenario (runs per key, share told "in progress"). */
  note?: string;
}

/**
 * Measures a scenario on every contender of one store. Contenders take turns in short rounds
 * (A B C A B C …), so a noisy neighbour on the machine slows them alike instead of one of them.
 */
export async function measureScenario(
  scenario: Scenario,
  contenders: readonly Contender[],
  options: MeasureOptions,
): Promise<ScenarioResult[]> {
  const samples = new Map(contenders.map((contender) => [contender, new Samples()]));
  for (const contender of contenders) {
    await scenario.prepare?.(contender);
    await runFor(scenario, contender, options.warmupMs);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const contender of contenders) samples.get(contender)!.add(await runFor(scenario, contender, options.roundMs));
  }
  return contenders.map((contender) => {
    const note = scenario.check?.(contender);
    contender.workload.delayMs = 0;
    return {
      scenario: scenario.name,
      contender: contender.name,
      stats: samples.get(contender)!.summary(),
      ...(note === undefined ? {} : { note }),
    };
  });
}

/** Calls the scenario back to back for `durationMs` (at least once). */
async function runFor(scenario: Scenario, contender: Contender, durationMs: number) {
  const latencies: number[] = [];
  let events = 0;
  const roundTripsBefore = contender.roundTrips.count;
  const start = process.hrtime.bigint();
  do {
    const result = await scenario.call(contender);
    events += result.events;
    for (const latency of result.latencies) latencies.push(latency);
  } while (msSince(start) < durationMs);
  return { latencies, events, elapsedMs: msSince(start), roundTrips: contender.roundTrips.count - roundTripsBefore };
}
