/**
 * The checks of `verifyMigration`'s options, made before it reads anything. Until 2026-12-05
 * a bad one was used as given: a signal that is no `AbortSignal` was ignored, a concurrency of
 * 0 or -1 ran, one of 1.5 failed deep in the run.
 */
import { validateSignal } from '../core/abort.js';
import { describeValue, ValidationError } from '../core/errors.js';
import type { VerifyOptions } from './types.js';

/** Throws a {@link ValidationError} naming the first option of `options` that is not valid. */
export function checkVerifyOptions(options: VerifyOptions): void {
  const { concurrency, maxDifferences, expiryToleranceMs, allowExtra, onProgress, signal } = options;
  const refuse = (name: string, value: unknown, expected: string): never => {
    throw new ValidationError(
      `verifyMigration option ${name}`,
      `must be ${expected} (got ${describeValue(value)})`,
    );
  };
  if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1)) {
    refuse('concurrency', concurrency, 'a positive integer');
  }
  if (maxDifferences !== undefined && (!Number.isSafeInteger(maxDifferences) || maxDifferences < 0)) {
    refuse('maxDifferences', maxDifferences, 'a non-negative integer');
  }
  if (
    expiryToleranceMs !== undefined &&
    (typeof expiryToleranceMs !== 'number' || !Number.isFinite(expiryToleranceMs) || expiryToleranceMs < 0)
  ) {
    refuse('expiryToleranceMs', expiryToleranceMs, 'a finite number of milliseconds, 0 or more');
  }
  if (allowExtra !== undefined && typeof allowExtra !== 'boolean')
    refuse('allowExtra', allowExtra, 'a boolean');
  if (onProgress !== undefined && typeof onProgress !== 'function')
    refuse('onProgress', onProgress, 'a function');
  validateSignal(signal); // as every call taking a signal refuses one of another type
}
