/**
 * Cancellation with an `AbortSignal`: long calls check it before their first I/O and between
 * steps, and reads stop waiting as soon as it fires.
 */
import { describeValue, OperationAbortedError, ValidationError } from './errors.js';

/** Options of a call that can be cancelled. */
export interface AbortOptions {
  /** Aborts the call: it rejects with {@link OperationAbortedError} (the signal's reason as `cause`). */
  signal?: AbortSignal;
}

/** Checks that `value` is an `AbortSignal` (or absent); any other value is a `ValidationError`. */
export function validateSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (value instanceof AbortSignal) return value;
  throw new ValidationError('signal', `must be an AbortSignal (got ${describeValue(value)})`);
}

/** Throws {@link OperationAbortedError} for `method` when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, method: string): void {
  if (signal?.aborted === true) throw new OperationAbortedError(method, signal.reason);
}

/**
 * `work`, or a rejection with {@link OperationAbortedError} as soon as `signal` fires, whichever
 * comes first. For reads only: the work still runs to its end (a `shutdown()` waits for it),
 * its result is dropped.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, method: string): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new OperationAbortedError(method, signal.reason));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
