/**
 * Jest reporter that ends the run with one plain line, `Tests: N passed, N failed, N skipped`,
 * which CI systems read as the run's result.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const failed = numFailedTests + (numFailedTests === 0 && failedSuites > 0 ? failedSuites : 0);
    const line = `Tests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped`;
    // Jest prints its own summary after the reporters run; print ours as the very last line.
    process.once('exit', () => process.stderr.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
