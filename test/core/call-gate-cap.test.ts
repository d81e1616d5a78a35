/**
 * Unit tests of the storage's queue capped after a server refused a new connection for want of
 * slots (no server; the real refusal is in test/postgres/server-full.test.ts): the checkouts
 * drain to the cap, a call sent back waits ahead of the others, the cap rises by one a probe
 * delay (at once when a connection opens) and is lifted at the pool's `max`, a refusal caps
 * again, and the stall watch still bounds the waits.
 */
import { CallGate, GateWaitEnded } from '../../src/core/call-gate.js';

/** Runs the promise callbacks queued so far (under fake timers). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('CallGate capped at the live connections', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('drains to the cap, serves the call sent back first, then raises the cap once a delay until max', async () => {
    // The pool's max 4, plus 2 calls let on into its queue.
    const gate = new CallGate(6, undefined, 4);
    for (let i = 0; i < 6; i += 1) expect(gate.tryTake()).toBe(true);
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map((name) => gate.take().then(() => order.push(name)));
    // One call's new connection was refused while the pool had 2 open: it gives its turn back.
    gate.capAt(2, 1000);
    gate.give(false);
    expect(gate.allowed).toBe(2);
    const again = gate.takeFirst().then(() => order.push('refused'));
    // The other calls let on before the cap keep their turns; none is handed on until below it.
    gate.give(true);
    gate.give(true);
    gate.give(true);
    await settle();
    expect([order, gate.busy]).toEqual([[], 2]);
    gate.give(true);
    await settle();
    expect(order).toEqual(['refused']);
    expect(gate.tryTake()).toBe(false);
    // A second later one more call goes on, which may open one more connection.
    jest.advanceTimersByTime(999);
    await settle();
    expect(order).toEqual(['refused']);
    jest.advanceTimersByTime(1);
    await settle();
    expect([order, gate.allowed]).toEqual([['refused', 'a'], 3]);
    // At the pool's max the cap is lifted: the calls past max go on into the pool's queue again.
    jest.advanceTimersByTime(1000);
    await settle();
    expect([order, gate.allowed, gate.busy]).toEqual([['refused', 'a', 'b', 'c'], 6, 5]);
    await Promise.all([...waits, again]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('caps again from the live connections at each refusal, restarting the delay', async () => {
    const gate = new CallGate(74, undefined, 10);
    gate.capAt(2, 1000);
    jest.advanceTimersByTime(1000);
    expect(gate.allowed).toBe(3);
    jest.advanceTimersByTime(600);
    // The probe's connection was refused too.
    gate.capAt(2, 1000);
    jest.advanceTimersByTime(999);
    expect(gate.allowed).toBe(2);
    jest.advanceTimersByTime(1);
    expect(gate.allowed).toBe(3);
    // Connections the pool opened meanwhile count: the cap never drops under them.
    gate.capAt(5, 1000);
    expect(gate.allowed).toBe(5);
    gate.close('closed');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('raises the cap at once when a connection opens while capped, restarting the delay; not when uncapped', async () => {
    const gate = new CallGate(6, undefined, 4);
    gate.connectionOpened();
    expect(gate.allowed).toBe(6);
    gate.capAt(1, 1000);
    expect(gate.tryTake()).toBe(true);
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map((name) => gate.take().then(() => order.push(name)));
    jest.advanceTimersByTime(600);
    // The server had a slot for a connection that opened: one more call goes on now.
    gate.connectionOpened();
    await settle();
    expect([order, gate.allowed]).toEqual([['a'], 2]);
    // The next probe is a full delay after that raise, not the first one's.
    jest.advanceTimersByTime(999);
    await settle();
    expect(order).toEqual(['a']);
    jest.advanceTimersByTime(1);
    await settle();
    expect([order, gate.allowed]).toEqual([['a', 'b'], 3]);
    // At the pool's max the cap is lifted, and no probe is left.
    gate.connectionOpened();
    await settle();
    expect([order, gate.allowed]).toEqual([['a', 'b', 'c'], 6]);
    expect(jest.getTimerCount()).toBe(0);
    gate.connectionOpened();
    expect(gate.allowed).toBe(6);
    await Promise.all(waits);
  });

  it('still rejects the waiting calls when no call got an answer for stallMillis (a refusal is none)', async () => {
    const gate = new CallGate(4, 80, 4);
    for (let i = 0; i < 4; i += 1) expect(gate.tryTake()).toBe(true);
    const settled: unknown[] = [];
    for (let i = 0; i < 3; i += 1)
      gate.take().then(
        () => settled.push('checkout'),
        (e: unknown) => settled.push(e),
      );
    gate.capAt(1, 1000);
    gate.give(false);
    void gate.takeFirst().then(
      () => settled.push('checkout'),
      (e: unknown) => settled.push(e),
    );
    jest.advanceTimersByTime(80);
    jest.runOnlyPendingTimers();
    await settle();
    expect(settled).toHaveLength(4);
    for (const error of settled) expect(error).toBeInstanceOf(GateWaitEnded);
    gate.close('closed');
  });
});
