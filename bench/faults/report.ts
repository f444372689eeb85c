import { STORE_TITLES } from '../lib/report.js';
import { num, textTable } from '../lib/table.js';
import { COLD_START_FAILED, DEADLOCKED, HOOK_FAILED_DELIVERY } from './labels.js';
import type { FaultKind, HarnessReport } from './types.js';

const FAULT_LABELS: Record<FaultKind, string> = {
  handlerError: 'handler errors',
  workerKilled: 'workers SIGKILLed mid-handler',
  connectionCut: 'store connections cut',
  leaseLapsed: 'leases lapsed under a running handler',
  slowHandler: 'slow handlers past their lease, heartbeat on',
  slowHandlerNoHeartbeat: 'slow handlers past their lease, heartbeat off',
  lostReply: 'store replies lost after the request was applied (claim or completion)',
  hookThrew: 'hooks that threw (onOutcome, onDuplicate, metrics sink)',
  partialBatch: 'SQS batch claims cut mid-batch (makeIdempotentSqs)',
  coldStartMigration: 'workers cold-started with ?migrate=true, at once (Postgres)',
};

/** Kinds not planned on logical events: expected to fire in every run. */
const ALWAYS_EXPECTED: readonly FaultKind[] = ['connectionCut', 'hookThrew', 'partialBatch'];

/** Whether a run on this store is expected to inject this kind. */
function expectedOn(report: HarnessReport, kind: FaultKind): boolean {
  if (kind === 'coldStartMigration') return report.store === 'postgres';
  return ALWAYS_EXPECTED.includes(kind) || (report.planned as Partial<Record<FaultKind, number>>)[kind]! > 0;
}

/** One column per store. */
export function reportTable(reports: readonly HarnessReport[]): string {
  const row = (label: string, value: (report: HarnessReport) => string) => [label, ...reports.map(value)];
  return textTable(
    ['', ...reports.map((report) => STORE_TITLES[report.store])],
    [
      row('logical events', (r) => num(r.logicalEvents)),
      row('deliveries (with duplicates)', (r) => num(r.deliveries)),
      row('receives (with retries)', (r) => num(r.receives)),
      ...(Object.keys(FAULT_LABELS) as FaultKind[]).map((kind) => row(`fault: ${FAULT_LABELS[kind]}`, (r) => num(r.faults[kind]))),
      row('stale ledger writes refused by the fence', (r) => num(r.staleWritesRefused)),
      row('late completions refused (LeaseLostError)', (r) => num(r.lateCompletionsRefused)),
      row('completions lost to a store error', (r) => num(r.completionsLost)),
      row('DOUBLE EFFECTS', (r) => num(r.doubleEffects)),
      row('slow handlers, heartbeat on: double effects (part of the above)', (r) => num(r.slowHandlers.heartbeat.doubleEffects)),
      row('slow handlers, heartbeat off: double effects (expected)', (r) => num(r.slowHandlers.noHeartbeat.doubleEffects)),
      row('LOST EVENTS', (r) => num(r.lostEvents)),
      row('deliveries never acknowledged', (r) => num(r.unacked)),
      row('time', (r) => `${num(r.elapsedMs / 1000, 1)} s`),
    ],
  );
}

/** Why a report does not prove the guarantee, or an empty list when it does. */
export function problems(report: HarnessReport): string[] {
  const found: string[] = [];
  const where = STORE_TITLES[report.store];
  if (report.doubleEffects > 0) {
    const hint =
      report.completionsLost > 0
        ? ` (${report.completionsLost} completions could not be recorded even after the engine's retries)`
        : '';
    found.push(`${where}: ${report.doubleEffects} logical events took effect more than once${hint}`);
    for (const line of report.doubleEffectRows) found.push(`${where}: ${line} (fencing token@worker time)`);
  }
  if (report.lostEvents > 0) found.push(`${where}: ${report.lostEvents} logical events never took effect`);
  if (report.unacked > 0) found.push(`${where}: ${report.unacked} deliveries were never acknowledged`);
  for (const kind of Object.keys(FAULT_LABELS) as FaultKind[]) {
    if (expectedOn(report, kind) && report.faults[kind] === 0) found.push(`${where}: no ${FAULT_LABELS[kind]} were injected, so the run proves nothing about them`);
  }
  const migrationsFailed = report.counters[COLD_START_FAILED] ?? 0;
  if (migrationsFailed > 0) found.push(`${where}: ${migrationsFailed} cold starts failed to migrate`);
  const deadlocks = report.counters[DEADLOCKED] ?? 0;
  if (deadlocks > 0) found.push(`${where}: ${deadlocks} store calls failed with a deadlock (40P01)`);
  const hookFailures = report.counters[HOOK_FAILED_DELIVERY] ?? 0;
  if (hookFailures > 0) found.push(`${where}: ${hookFailures} deliveries failed because a hook threw`);
  if (report.faults.leaseLapsed > 0 && report.staleWritesRefused === 0) found.push(`${where}: no stale ledger write was refused`);
  if (report.faults.leaseLapsed > 0 && report.lateCompletionsRefused === 0) found.push(`${where}: no late completion was refused`);
  // Without the heartbeat the redelivery must have taken a slow handler's lapsed claim over at
  // least once, or the run shows nothing the heartbeat prevents.
  const { noHeartbeat } = report.slowHandlers;
  if (noHeartbeat.slowRuns > 0 && noHeartbeat.doubleEffects === 0) {
    found.push(`${where}: no slow handler without the heartbeat took effect twice, so the run proves nothing about the heartbeat`);
  }
  return found;
}

/** The workers' counters, one per line, for a closer look. */
export function countersText(report: HarnessReport): string {
  return Object.entries(report.counters)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `  ${name}: ${value}`)
    .join('\n');
}
