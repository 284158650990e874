// Prints the closing line of the test command, "tests: N passed, N failed", from Vitest's JSON
// reports (one per run; the counts are added up). A missing or unreadable report counts as a failure.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files.length > 0 ? files : ['.test-results/vitest.json']) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  } catch {
    console.log(`${file}: Vitest wrote no report`);
    failed += 1;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
