/** InFlightCalls: the count a store's close and the Redis connection's drain wait out. */
import { InFlightCalls } from '../../src/core/in-flight.js';

describe('InFlightCalls', () => {
  it('resolves whenIdle at once with nothing in flight, else when the last call leaves', async () => {
    const calls = new InFlightCalls();
    await expect(calls.whenIdle()).resolves.toBeUndefined();
    calls.enter();
    calls.enter();
    let idle = false;
    const first = calls.whenIdle().then(() => (idle = true));
    const second = calls.whenIdle();
    calls.leave();
    await new Promise((resolve) => setImmediate(resolve));
    expect([idle, calls.count]).toEqual([false, 1]);
    calls.leave();
    await Promise.all([first, second]);
    expect([idle, calls.count]).toEqual([true, 0]);
    // A later round makes a new waiter.
    calls.enter();
    let again = false;
    const later = calls.whenIdle().then(() => (again = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(again).toBe(false);
    calls.leave();
    await later;
    expect(again).toBe(true);
  });
});
