/**
 * Unit tests of the store's own queue in front of its driver (`CallGate`, no server): the bound, arrival
 * order, a synchronous free checkout, the stall watch (progress keeps waiting calls waiting;
 * none for `stallMillis` rejects them all at once), a failure and a close.
 */
import { stat } from 'node:fs';
import { CallGate, GateWaitEnded } from '../../src/core/call-gate.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Runs the promise callbacks queued so far (under fake timers, where `flush` would not run). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('CallGate', () => {
  it('takes a free checkout synchronously, at most `capacity`, then serves waiters in arrival order', async () => {
    const gate = new CallGate(2, undefined);
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
    // Fake timers: a real 20 ms sleep can outlast the 60 ms bound on a loaded machine.
    jest.useFakeTimers();
    try {
      const gate = new CallGate(1, 60);
      expect(gate.tryTake()).toBe(true);
      let served = 0;
      let failed = 0;
      Array.from({ length: 12 }, () =>
        gate.take().then(
          () => (served += 1),
          () => (failed += 1),
        ),
      );
      // 12 turns of 20 ms: 240 ms in all, four times the stall bound, with an answer every 20 ms.
      for (let turn = 1; turn <= 12; turn += 1) {
        jest.advanceTimersByTime(20);
        jest.runOnlyPendingTimers();
        gate.give(true);
        await settle();
        expect([served, failed]).toEqual([turn, 0]);
      }
      gate.give(true);
      expect(gate.busy).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects every waiting call at once when no call got an answer for stallMillis', async () => {
    // Fake timers: on a loaded machine a real 30 ms sleep can outlast the 80 ms bound, and the
    // test must tell a failed hand-on (no answer) from an answer, which only exact times can.
    jest.useFakeTimers();
    try {
      const gate = new CallGate(1, 80);
      expect(gate.tryTake()).toBe(true);
      const settled: unknown[] = [];
      Array.from({ length: 1000 }, () =>
        gate.take().then(
          () => settled.push('checkout'),
          (e: unknown) => settled.push(e),
        ),
      );
      jest.advanceTimersByTime(30);
      // Failed calls hand their checkout on, but are no answer: the bound still counts from 0.
      gate.give(false);
      await settle();
      expect(settled).toEqual(['checkout']);
      jest.advanceTimersByTime(49);
      await settle();
      expect(settled).toHaveLength(1);
      jest.advanceTimersByTime(1);
      jest.runOnlyPendingTimers(); // the confirmation after the turn's I/O
      await settle();
      expect(settled).toHaveLength(1000);
      for (const error of settled.slice(1)) {
        expect(error).toBeInstanceOf(GateWaitEnded);
        expect((error as GateWaitEnded).kind).toBe('unavailable');
      }
      expect((settled[1] as Error).message).toBe(
        'no call got an answer from the server for 80 ms while 999 calls waited (1 calls holding or queued for a connection of the pool): the server stopped answering, or statements hold every connection that long',
      );
      expect(gate.stalledSinceAnswer).toBe(true);
      // The checkout held stays held; once given back the gate serves again.
      expect(gate.busy).toBe(1);
      gate.give(true);
      expect(gate.stalledSinceAnswer).toBe(false);
      expect(gate.tryTake()).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts the quiet time anew at the first sending after an answer (noteSent), once', async () => {
    // A driver that sends its calls later than they took their turns (Redis, at the tick's
    // end): no answer can come before the sending, so the store's own stretch before it is no
    // silence of the server's. A second sending before any answer changes nothing.
    jest.useFakeTimers();
    try {
      const gate = new CallGate(1, 80, 1, { out: 'calls out', cause: 'quiet' });
      expect(gate.tryTake()).toBe(true);
      const settled: unknown[] = [];
      gate.take().then(
        () => settled.push('turn'),
        (e: unknown) => settled.push(e),
      );
      jest.advanceTimersByTime(50);
      gate.noteSent();
      jest.advanceTimersByTime(40);
      gate.noteSent();
      jest.advanceTimersByTime(39);
      jest.runOnlyPendingTimers();
      await settle();
      // 129 ms after the wait began, 79 after the first sending: still waiting.
      expect(settled).toEqual([]);
      jest.advanceTimersByTime(1);
      jest.runOnlyPendingTimers();
      await settle();
      expect(settled[0]).toBeInstanceOf(GateWaitEnded);
      expect((settled[0] as Error).message).toBe(
        'no call got an answer from the server for 80 ms while 1 calls waited (1 calls out): quiet',
      );
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts an answer as progress: the bound restarts from it', async () => {
    jest.useFakeTimers();
    try {
      const gate = new CallGate(1, 80);
      expect(gate.tryTake()).toBe(true);
      const settled: unknown[] = [];
      [0, 1].map(() =>
        gate.take().then(
          () => settled.push('checkout'),
          (e: unknown) => settled.push(e),
        ),
      );
      jest.advanceTimersByTime(30);
      gate.give(true);
      jest.advanceTimersByTime(79);
      jest.runOnlyPendingTimers();
      await settle();
      // 109 ms after the first wait began but 79 after the answer: still waiting.
      expect(settled).toEqual(['checkout']);
      jest.advanceTimersByTime(1);
      jest.runOnlyPendingTimers();
      await settle();
      expect(settled[1]).toBeInstanceOf(GateWaitEnded);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not count a synchronous stretch of its own as a quiet server', async () => {
    const gate = new CallGate(1, 30);
    expect(gate.tryTake()).toBe(true);
    const wait = gate.take();
    // An answer (I/O: a file stat done on the thread pool) arrives while the loop is blocked
    // ten times the bound (long enough for the thread pool to finish the stat even on a loaded
    // machine): the answer is read before the stall is confirmed.
    stat(__filename, () => gate.give(true));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // blocked, as by a burst of calls made in one turn
    }
    await expect(wait).resolves.toBeUndefined();
  });

  it('failWaiting rejects the waiting calls with the reason and cause; close refuses later calls too', async () => {
    const gate = new CallGate(1, undefined);
    expect(gate.tryTake()).toBe(true);
    const cause = new Error('connect ECONNREFUSED');
    const failed = gate.take().catch((e: unknown) => e);
    gate.failWaiting('a connect failed', cause);
    const error = (await failed) as GateWaitEnded;
    expect(error.message).toBe('a connect failed');
    expect(error.cause).toBe(cause);
    const closedWait = gate.take().catch((e: unknown) => e);
    gate.close('closed');
    expect(((await closedWait) as GateWaitEnded).kind).toBe('closed');
    gate.give(true);
    expect(gate.tryTake()).toBe(false);
    expect(((await gate.take().catch((e: unknown) => e)) as GateWaitEnded).kind).toBe('closed');
  });
});
