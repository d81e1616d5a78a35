/**
 * `verifyMigration` refuses a bad option with a ValidationError naming it, before it reads
 * anything (the stores here are never opened: a read would reject as not initialized). Until
 * 2026-12-05 such options were used as given: a signal that is no AbortSignal was ignored.
 */
import { ValidationError } from '../../src/core/index.js';
import { verifyMigration, type VerifyOptions } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

describe('verifyMigration options', () => {
  it.each<[string, unknown, string]>([
    ['concurrency', 0, 'must be a positive integer (got 0)'],
    ['concurrency', -1, 'must be a positive integer (got -1)'],
    ['concurrency', 1.5, 'must be a positive integer (got 1.5)'],
    ['maxDifferences', -1, 'must be a non-negative integer (got -1)'],
    ['expiryToleranceMs', Number.NaN, 'must be a finite number of milliseconds, 0 or more'],
    ['expiryToleranceMs', -5, 'must be a finite number of milliseconds, 0 or more (got -5)'],
    ['allowExtra', 'yes', 'must be a boolean (got "yes")'],
    ['onProgress', {}, 'must be a function'],
    ['signal', 'x', 'must be an AbortSignal (got "x")'],
  ])('refuses %s %p before reading either store', async (name, value, message) => {
    const options = { [name]: value } as VerifyOptions;
    const error: unknown = await verifyMigration(new InMemoryStorage(), new InMemoryStorage(), options).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    // A signal is refused as by every call that takes one (field `signal`).
    expect((error as ValidationError).field).toBe(
      name === 'signal' ? 'signal' : `verifyMigration option ${name}`,
    );
    expect((error as Error).message).toContain(message);
  });

  it('takes the limits at their edges: one at a time, no difference kept, no tolerance', async () => {
    const [source, target] = [new InMemoryStorage(), new InMemoryStorage()];
    await Promise.all([source.initialize(), target.initialize()]);
    await source.storeConversation('c1', { v: 1 });
    const options: VerifyOptions = { concurrency: 1, maxDifferences: 0, expiryToleranceMs: 0 };
    const result = await verifyMigration(source, target, {
      ...options,
      signal: new AbortController().signal,
    });
    expect([result.ok, result.differenceCount, result.differences]).toEqual([false, 1, []]);
  });
});
