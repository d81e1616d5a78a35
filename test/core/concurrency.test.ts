/** Unit tests of the shared bounded-concurrency helpers: order, the bound, the error rule, the slots. */
import { mapConcurrent, Slots } from '../../src/core/concurrency.js';
import { ValidationError } from '../../src/core/index.js';

/** A promise with its settle functions, so a test decides when each call finishes. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('mapConcurrent', () => {
  it('returns the results in the order of the items, whatever order the calls finish in', async () => {
    const items = [50, 10, 40, 0, 30, 20];
    const results = await mapConcurrent(items, 3, async (delay, index) => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      return `${index}:${delay}`;
    });
    expect(results).toEqual(['0:50', '1:10', '2:40', '3:0', '4:30', '5:20']);
  });

  it('never has more than `limit` calls in flight, reaches the limit, and starts items in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const started: number[] = [];
    await mapConcurrent(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (item) => {
        started.push(item);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1 + (item % 4)));
        inFlight -= 1;
      },
    );
    expect(maxInFlight).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs everything at once when the limit exceeds the items', async () => {
    const gates = [deferred<void>(), deferred<void>()];
    let started = 0;
    const run = mapConcurrent([0, 1], 10, async (i) => {
      started += 1;
      await gates[i]!.promise;
      return i * 2;
    });
    await flush();
    expect(started).toBe(2);
    gates.forEach((gate) => gate.resolve());
    await expect(run).resolves.toEqual([0, 2]);
  });

  it('after the first failure starts nothing new, waits for the calls in flight, then rejects with the first error', async () => {
    const gates = Array.from({ length: 10 }, () => deferred<number>());
    const started: number[] = [];
    const finished: number[] = [];
    let settled = false;
    const run = mapConcurrent(gates, 3, async (gate, index) => {
      started.push(index);
      try {
        return await gate.promise;
      } finally {
        finished.push(index);
      }
    });
    run.then(
      () => (settled = true),
      () => (settled = true),
    );
    await flush();
    expect(started).toEqual([0, 1, 2]);

    const first = new Error('first');
    gates[1]!.reject(first);
    await flush();
    // Item 1's slot is not reused, and the run waits for items 0 and 2.
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toBe(false);

    gates[2]!.reject(new Error('second'));
    gates[0]!.resolve(0);
    await expect(run).rejects.toBe(first);
    expect(finished.sort()).toEqual([0, 1, 2]);
    expect(started).toEqual([0, 1, 2]);
  });

  it('treats a synchronous throw like a rejection', async () => {
    const boom = new Error('sync');
    const calls: number[] = [];
    await expect(
      mapConcurrent([0, 1, 2, 3], 1, (item) => {
        calls.push(item);
        if (item === 1) throw boom;
        return Promise.resolve(item);
      }),
    ).rejects.toBe(boom);
    expect(calls).toEqual([0, 1]);
  });

  it('resolves an empty list with [] without calling fn', async () => {
    const fn = jest.fn(async () => 1);
    await expect(mapConcurrent([], 4, fn)).resolves.toEqual([]);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the limit %p with a ValidationError',
    async (limit) => {
      const fn = jest.fn(async () => 1);
      const error = await mapConcurrent([1], limit, fn).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('concurrency limit');
      expect(fn).not.toHaveBeenCalled();
    },
  );
});

describe('Slots', () => {
  it('runs at most `limit` tasks at once, the waiting ones in call order, and frees a slot on rejection', async () => {
    const slots = new Slots(2);
    const gates = Array.from({ length: 5 }, () => deferred<number>());
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      slots.run(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(slots.queued).toBe(3);
    gates[1]!.reject(new Error('task 1 failed'));
    await expect(runs[1]).rejects.toThrow('task 1 failed');
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve(0);
    gates[2]!.resolve(2);
    await flush();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(slots.queued).toBe(0);
    gates[3]!.resolve(3);
    gates[4]!.resolve(4);
    await expect(Promise.all([runs[0], runs[2], runs[3], runs[4]])).resolves.toEqual([0, 2, 3, 4]);
    // Every slot is free again: the next tasks start at once.
    const more = [slots.run(async () => 'a'), slots.run(async () => 'b')];
    expect(slots.queued).toBe(0);
    await expect(Promise.all(more)).resolves.toEqual(['a', 'b']);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses the limit %p with a ValidationError', (limit) => {
    expect(() => new Slots(limit)).toThrow(ValidationError);
  });
});
