// Prints the plain line CI reads, `tests: N passed, N failed`, from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const reportPath = process.argv[2] ?? '.tmp/vitest-report.json';
if (!existsSync(reportPath)) {
  console.log('tests: 0 passed, 1 failed');
  console.error(`no vitest report at ${reportPath}: the test run did not finish`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const suites = report.testResults ?? [];
// A file that fails to load has no failed test of its own, yet its tests never ran: count it.
const brokenFiles = suites.filter(
  (suite) => suite.status === 'failed' && !(suite.assertionResults ?? []).some((test) => test.status === 'failed'),
).length;
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
