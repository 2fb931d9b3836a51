// Prints one plain closing line ("Summary: N passed, N failed, N skipped") as the very last output,
// after Jest's own summary: the form CI tooling reads to know tests really ran.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `\nSummary: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
