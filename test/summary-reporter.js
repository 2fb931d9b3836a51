// Prints one plain closing line ("Summary: N passed, N failed, N skipped") after Jest's own output,
// the form CI tooling reads to know tests really ran.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\nSummary: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
