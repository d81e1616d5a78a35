/**
 * Jest reporter that ends the run with one plain line, `Tests: N passed, N failed, N skipped`,
 * which CI systems read as the run's result.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const failed = numFailedTests + (numFailedTests === 0 && failedSuites > 0 ? failedSuites : 0);
    process.stderr.write(
      `\nTests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
