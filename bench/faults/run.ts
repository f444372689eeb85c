// `pnpm test:faults`: the long form of the fault harness on Redis, PostgreSQL and DynamoDB Local.
//
//   tsx bench/faults/run.ts                      long form, every store (~2 minutes per store)
//   tsx bench/faults/run.ts --short              the CI form
//   tsx bench/faults/run.ts --store redis,postgres
//
// Exits 1 when any store shows a double effect, a lost event, an unacknowledged delivery, or a
// fault kind that never fired.
import type { StoreKind } from '../contenders/types.js';
import { startDynamoDB, type DynamoDBEndpoint } from '../lib/dynamodb-local.js';
import { runHarness } from './coordinator.js';
import { harnessOptions } from './presets.js';
import { countersText, problems, reportTable } from './report.js';
import type { HarnessReport } from './types.js';

const args = process.argv.slice(2);
const form = args.includes('--short') ? 'short' : 'long';
const storeArg = args[args.indexOf('--store') + 1];
const stores = (args.includes('--store') && storeArg ? storeArg.split(',') : ['redis', 'postgres', 'dynamodb']) as StoreKind[];
const log = (line: string) => process.stderr.write(`[faults] ${line}\n`);

let dynamodb: DynamoDBEndpoint | undefined;
const reports: HarnessReport[] = [];
try {
  for (const store of stores) {
    if (store === 'dynamodb') {
      log('starting DynamoDB Local…');
      dynamodb = await startDynamoDB();
    }
    const options = { ...harnessOptions(form, store), log, ...(dynamodb ? { dynamodbEndpoint: dynamodb.endpoint } : {}) };
    const report = await runHarness(options);
    reports.push(report);
    log(`${store} counters:\n${countersText(report)}`);
  }
} finally {
  await dynamodb?.stop();
}

console.log(`\nFault harness (${form} form)\n${reportTable(reports)}`);
const found = reports.flatMap(problems);
if (found.length > 0) {
  console.log(`\nFAILED:\n${found.map((line) => `- ${line}`).join('\n')}`);
  process.exitCode = 1;
} else {
  console.log('\nOK: no double effects, no lost events, every fault kind injected on every store.');
}
