/** The bounded waits the close paths share (src/core/waits.ts). */
import { settledWithin, withTimeout } from '../../src/core/waits.js';

describe('bounded waits', () => {
  it('settledWithin: true for a promise settled in time (rejected too), false once the time ran out', async () => {
    expect(await settledWithin(Promise.resolve(1), 1000)).toBe(true);
    expect(await settledWithin(Promise.reject(new Error('x')), 1000)).toBe(true);
    expect(await settledWithin(new Promise(() => undefined), 20)).toBe(false);
  });

  it('withTimeout: the value in time, else the given error', async () => {
    await expect(withTimeout(Promise.resolve('v'), 1000, () => new Error('late'))).resolves.toBe('v');
    await expect(withTimeout(new Promise(() => undefined), 20, () => new Error('late'))).rejects.toThrow(
      'late',
    );
  });
});
