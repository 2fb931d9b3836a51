// Prints one plain closing line ("Summary: N passed, N failed, N skipped") as the very last output,
// after Jest's own summary: the form CI tooling reads to know tests really ran. A skipped or todo test
// fails the run (exit 1): every test must run on both storage modes. Only a run narrowed by name
// (-t / --testNamePattern), which skips the rest on purpose, may skip.
export default class SummaryReporter {
  #narrowed;
  #error;

  constructor(globalConfig) {
    this.#narrowed = Boolean(globalConfig.testNamePattern);
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `\nSummary: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    if (skipped > 0 && !this.#narrowed) {
      const files = results.testResults
        .filter((file) => file.numPendingTests + file.numTodoTests > 0 || file.skipped)
        .map((file) => `  ${file.testFilePath}`);
      this.#error = new Error(`${skipped} test(s) skipped; skipping is a failure:\n${files.join('\n')}`);
      process.stderr.write(`\n${this.#error.message}\n`);
    }
    process.once('exit', () => process.stdout.write(line));
  }

  getLastError() {
    return this.#error;
  }
}
