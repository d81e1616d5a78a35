/**
 * The value converter's plain-object branch and its error paths: the same result as
 * `JSON.stringify` for plain, null-prototype and class-instance values, and errors naming
 * the path of the value whose reading failed (built only when one fails).
 */
import { createSecretKey } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import { BlockList, SocketAddress, Socket } from 'node:net';
import { createHistogram } from 'node:perf_hooks';
import { SerializationError, toJsonObject, toJsonValue, ValidationError } from '../../src/core/index.js';

/** The SerializationError `convert` throws, or a failure naming what it returned instead. */
function failure(convert: () => unknown): SerializationError {
  try {
    convert();
  } catch (error) {
    if (error instanceof SerializationError) return error;
    throw error;
  }
  throw new Error('converted without an error');
}

describe('value conversion', () => {
  it('converts plain, null-prototype and class-instance values exactly as JSON.stringify', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const bare = Object.assign(Object.create(null) as object, { a: 1, b: [true, null] });
    const value = {
      bare,
      point: new Point(1, 2),
      nested: [{ a: [1, 'two', { three: 3.5 }] }, [], {}],
      keyed: [{ toJSON: (key: string) => ({ key, type: typeof key }) }],
      dropped: undefined,
      boxed: [Object('s'), Object(2), Object(false)],
    };
    expect(toJsonObject(value, 'v')).toEqual(JSON.parse(JSON.stringify(value)));
    expect(toJsonObject(value, 'v').keyed).toEqual([{ key: '0', type: 'string' }]);
  });

  it('refuses a typed array whatever its prototype, and a Map dressed as a plain object stays empty as in JSON', () => {
    const bytes = Object.setPrototypeOf(new Uint8Array([1, 2]), Object.prototype) as object;
    expect(failure(() => toJsonValue({ a: [bytes] }, 'v')).path).toBe('$.a[0]');
    const map = Object.setPrototypeOf(new Map([[1, 2]]), Object.prototype) as object;
    expect(toJsonValue({ map }, 'v')).toEqual(JSON.parse(JSON.stringify({ map })));
  });

  it('refuses an Error (JSON would keep none of its message), but takes one with its own toJSON', () => {
    const error = Object.assign(new RangeError('too far'), { code: 'E_RANGE' });
    const refused = failure(() => toJsonValue({ steps: [{ error }] }, 'chain'));
    expect(refused.path).toBe('$.steps[0].error');
    expect(refused.message).toContain('RangeError would not survive JSON');
    const described = Object.assign(new Error('boom'), { toJSON: () => ({ message: 'boom' }) });
    expect(toJsonValue({ error: described }, 'v')).toEqual({ error: { message: 'boom' } });
    expect(failure(() => toJsonValue({ ref: new WeakRef({}) }, 'v')).path).toBe('$.ref');
  });

  it('names a refused built-in by its class or tag, and keeps those JSON writes faithfully', () => {
    class Registry extends Map<string, number> {}
    expect(failure(() => toJsonValue({ r: new Registry() }, 'v')).message).toContain('Registry would not');
    expect(failure(() => toJsonValue([[1].values()], 'v')).message).toContain('Array Iterator would not');
    expect(failure(() => toJsonValue({ s: Object(Symbol('s')) }, 'v')).message).toContain(
      'a symbol has no JSON representation at $.s',
    );
    // A toJSON of their own, or plain data in enumerable fields: converted as JSON.stringify does.
    class Agent extends EventTarget {
      name = 'a1';
    }
    const kept = { url: new URL('http://h/p?q=1'), bytes: Buffer.from('ab'), agent: new Agent() };
    expect(toJsonValue(kept, 'v')).toEqual(JSON.parse(JSON.stringify(kept)));
  });

  it('refuses Node class instances by their prototype chain, named by their class, and keeps those with a toJSON', () => {
    class Agent extends EventEmitter {
      name = 'a1';
    }
    const refusals = [
      [new EventEmitter(), 'EventEmitter'],
      [new Agent(), 'Agent'], // a caller's subclass: JSON would store its _events beside name
      [new Socket(), 'Socket'], // Socket → Duplex → Readable → Stream → EventEmitter
      [createSecretKey(Buffer.from('k')), 'SecretKeyObject'],
      [new BlockList(), 'BlockList'],
    ] as const;
    for (const [value, name] of refusals) {
      const refused = failure(() => toJsonValue({ list: [value] }, 'v'));
      expect([refused.path, refused.message]).toEqual([
        '$.list[0]',
        expect.stringContaining(`${name} would not survive JSON`),
      ]);
    }
    // A toJSON of their own is used, as JSON.stringify does: also on an emitter subclass.
    class Job extends EventEmitter {
      toJSON(): object {
        return { job: 7 };
      }
    }
    const address = new SocketAddress({ address: '127.0.0.1', port: 80 });
    const histogram = createHistogram();
    histogram.record(5); // an empty one's mean is NaN, refused as in any value
    const kept = { address, histogram, job: new Job() };
    expect(toJsonValue(kept, 'v')).toEqual(JSON.parse(JSON.stringify(kept)));
    expect(toJsonValue(kept, 'v')).toMatchObject({ address: { port: 80 }, job: { job: 7 } });
  });

  it('keeps an fs.Dirent as JSON writes it: its name and folder, not its entry type (README D4)', () => {
    const entry = readdirSync(__dirname, { withFileTypes: true }).find((e) => e.name === 'core.test.ts');
    expect(entry?.isFile()).toBe(true);
    const converted = toJsonValue({ entry }, 'v');
    expect(converted).toEqual(JSON.parse(JSON.stringify({ entry })));
    expect(converted).toEqual({ entry: expect.objectContaining({ name: 'core.test.ts' }) });
  });

  it('names the path of the value whose reading failed, in objects and arrays alike', () => {
    const getter = {
      a: [
        0,
        {
          get b(): never {
            throw new Error('no b');
          },
        },
      ],
    };
    const error = failure(() => toJsonValue(getter, 'v'));
    expect([error.path, (error.cause as Error).message]).toEqual(['$.a[1].b', 'no b']);
    const keys = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    expect(failure(() => toJsonValue({ x: { y: keys } }, 'v')).path).toBe('$.x.y');
    expect(failure(() => toJsonValue({ list: [1, new Date(NaN)] }, 'v')).message).toContain(
      'invalid Date at $.list[1]',
    );
    expect(failure(() => toJsonValue({ n: [[Infinity]] }, 'v')).path).toBe('$.n[0][0]');
    expect(failure(() => toJsonValue({ a: [1, undefined] }, 'v')).path).toBe('$.a[1]');
    const cycle: Record<string, unknown> = { k: 1 };
    cycle.self = [cycle];
    expect(failure(() => toJsonValue({ top: cycle }, 'v')).path).toBe('$.top.self[0]');
  });

  it('reports the path of nesting that is too deep, and keeps converting after a failed value', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 600; i += 1) deep = [deep];
    expect(() => toJsonValue({ deep }, 'v')).toThrow(ValidationError);
    expect(() => toJsonValue({ deep }, 'v')).toThrow(/at \$\.deep(\[0\]){511}$/);
    expect(toJsonValue({ fine: [1, { two: 2 }] }, 'v')).toEqual({ fine: [1, { two: 2 }] });
  });
});
