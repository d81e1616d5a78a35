/**
 * The checks of `verifyMigration`'s options, made before it reads anything. Until 2026-12-05
 * a bad one was used as given: a signal that is no `AbortSignal` was ignored, a concurrency of
 * 0 or -1 ran, one of 1.5 failed deep in the run.
 */
import { validateSignal } from '../core/abort.js';
import { describeValue, ValidationError } from '../core/errors.js';
import type { VerifyOptions } from './types.js';

/** An option that is not valid: its name, its value and what it must be. */
export interface OptionProblem {
  name: string;
  value: unknown;
  expected: string;
}

/**
 * The first of the options `verifyMigration` and `migrateStorage` share that is not valid
 * (`maxDifferences`, `onProgress`), then the verification's own, or `null`. The signal is
 * checked by the caller, each in its own way.
 */
export function verifyOptionProblem(options: Omit<VerifyOptions, 'signal'>): OptionProblem | null {
  const { concurrency, maxDifferences, expiryToleranceMs, allowExtra, onProgress } = options;
  if (maxDifferences !== undefined && (!Number.isSafeInteger(maxDifferences) || maxDifferences < 0)) {
    return { name: 'maxDifferences', value: maxDifferences, expected: 'a non-negative integer' };
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    return { name: 'onProgress', value: onProgress, expected: 'a function' };
  }
  if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1)) {
    return { name: 'concurrency', value: concurrency, expected: 'a positive integer' };
  }
  if (
    expiryToleranceMs !== undefined &&
    (typeof expiryToleranceMs !== 'number' || !Number.isFinite(expiryToleranceMs) || expiryToleranceMs < 0)
  ) {
    return {
      name: 'expiryToleranceMs',
      value: expiryToleranceMs,
      expected: 'a finite number of milliseconds, 0 or more',
    };
  }
  if (allowExtra !== undefined && typeof allowExtra !== 'boolean') {
    return { name: 'allowExtra', value: allowExtra, expected: 'a boolean' };
  }
  return null;
}

/** Throws a {@link ValidationError} naming the first option of `options` that is not valid. */
export function checkVerifyOptions(options: VerifyOptions): void {
  const problem = verifyOptionProblem(options);
  if (problem !== null) {
    throw new ValidationError(
      `verifyMigration option ${problem.name}`,
      `must be ${problem.expected} (got ${describeValue(problem.value)})`,
    );
  }
  validateSignal(options.signal); // as every call taking a signal refuses one of another type
}
