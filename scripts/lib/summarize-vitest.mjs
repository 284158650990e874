// Prints the closing lines of the test command from Vitest's JSON reports (one per run; the counts
// are added up): each failed test with the first line of its failure, then "tests: N passed,
// N failed". The failures come last so that the tail of a long log names them. A missing or
// unreadable report counts as a failure.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of files.length > 0 ? files : ['.test-results/vitest.json']) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const suite of report.testResults ?? []) {
      const where = relative(process.cwd(), suite.name ?? '');
      const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === 'failed');
      for (const test of failedTests) {
        const firstLine = String(test.failureMessages?.[0] ?? '').split('\n')[0];
        failures.push(`${file}: ${where} > ${test.fullName}\n    ${firstLine.slice(0, 400)}`);
      }
      // A file that failed outside any test (an import error, a hook) has no failed test to name.
      if (suite.status === 'failed' && failedTests.length === 0) {
        const firstLine = String(suite.message ?? '').split('\n')[0];
        failures.push(`${file}: ${where}\n    ${firstLine.slice(0, 400)}`);
      }
    }
  } catch {
    console.log(`${file}: Vitest wrote no report`);
    failed += 1;
  }
}
if (failures.length > 0) console.log(`failed:\n${failures.map((line) => `  ${line}`).join('\n')}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
