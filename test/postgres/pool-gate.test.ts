/**
 * Unit tests of the storage's queue in front of a pg pool (no server): the bound, arrival
 * order, a synchronous free checkout, the stall watch (progress keeps waiting calls waiting;
 * none for `stallMillis` rejects them all at once), a failure and a close.
 */
import { stat } from 'node:fs';
import { PoolGate, PoolWaitEnded } from '../../src/backends/postgres/pool-gate.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PoolGate', () => {
  it('takes a free checkout synchronously, at most `capacity`, then serves waiters in arrival order', async () => {
    const gate = new PoolGate(2, undefined);
    expect(gate.tryTake()).toBe(true);
    expect(gate.tryTake()).toBe(true);
    expect(gate.tryTake()).toBe(false);
    const order: number[] = [];
    const waits = [0, 1, 2].map((i) => gate.take().then(() => order.push(i)));
    expect(gate.waiting).toBe(3);
    // A checkout given back passes straight to the first waiting call, not to a newcomer.
    gate.give(true);
    expect(gate.tryTake()).toBe(false);
    await flush();
    expect(order).toEqual([0]);
    gate.give(true);
    gate.give(true);
    await Promise.all(waits);
    expect(order).toEqual([0, 1, 2]);
    expect(gate.busy).toBe(2);
    gate.give(true);
    gate.give(true);
    expect(gate.busy).toBe(0);
    expect(gate.tryTake()).toBe(true);
  });

  it('keeps calls waiting as long as calls get answers, however long the queue takes', async () => {
    const gate = new PoolGate(1, 60);
    expect(gate.tryTake()).toBe(true);
    const waits = Array.from({ length: 12 }, () => gate.take());
    // 12 turns of 20 ms: 240 ms in all, four times the stall bound, with an answer every 20 ms.
    for (const wait of waits) {
      await sleep(20);
      gate.give(true);
      await wait;
    }
    gate.give(true);
    expect(gate.busy).toBe(0);
  });

  it('rejects every waiting call at once when no call got an answer for stallMillis', async () => {
    const gate = new PoolGate(1, 80);
    expect(gate.tryTake()).toBe(true);
    const started = Date.now();
    const waits = Array.from({ length: 1000 }, () => gate.take().catch((e: unknown) => e));
    // Failed calls hand their checkout on, but are no answer.
    await sleep(30);
    gate.give(false);
    const errors = await Promise.all(waits.slice(1));
    const elapsed = Date.now() - started;
    expect(await waits[0]).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(1000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(PoolWaitEnded);
      expect((error as PoolWaitEnded).kind).toBe('unavailable');
    }
    expect((errors[0] as Error).message).toBe(
      'no call got an answer from the server for 80 ms while 999 calls waited (1 calls holding or queued for a connection of the pool): the server stopped answering, or statements hold every connection that long',
    );
    // The checkout held stays held; once given back the gate serves again.
    expect(gate.busy).toBe(1);
    gate.give(true);
    expect(gate.tryTake()).toBe(true);
  });

  it('does not count a synchronous stretch of its own as a quiet server', async () => {
    const gate = new PoolGate(1, 30);
    expect(gate.tryTake()).toBe(true);
    const wait = gate.take();
    // An answer (I/O: a file stat done on the thread pool) arrives while the loop is blocked
    // past the bound: it is read before the stall is confirmed.
    stat(__filename, () => gate.give(true));
    const until = Date.now() + 80;
    while (Date.now() < until) {
      // blocked, as by a burst of calls made in one turn
    }
    await expect(wait).resolves.toBeUndefined();
  });

  it('failWaiting rejects the waiting calls with the reason and cause; close refuses later calls too', async () => {
    const gate = new PoolGate(1, undefined);
    expect(gate.tryTake()).toBe(true);
    const cause = new Error('connect ECONNREFUSED');
    const failed = gate.take().catch((e: unknown) => e);
    gate.failWaiting('a connect failed', cause);
    const error = (await failed) as PoolWaitEnded;
    expect(error.message).toBe('a connect failed');
    expect(error.cause).toBe(cause);
    const closedWait = gate.take().catch((e: unknown) => e);
    gate.close('closed');
    expect(((await closedWait) as PoolWaitEnded).kind).toBe('closed');
    gate.give(true);
    expect(gate.tryTake()).toBe(false);
    expect(((await gate.take().catch((e: unknown) => e)) as PoolWaitEnded).kind).toBe('closed');
  });
});
