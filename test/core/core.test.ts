/** Unit tests of the core rules shared by every backend: ids, JSON, timestamps, records, config. */
import fc from 'fast-check';
import { z } from 'zod';
import {
  buildChainRecord,
  buildMemoryWrite,
  canonicalJson,
  ConfigError,
  formatTimestamp,
  InvalidIdError,
  type JsonValue,
  isCacheExpired,
  KeyedMutex,
  openPrepared,
  parseBackendConfig,
  parseTimestamp,
  SerializationError,
  toJsonValue,
  upsertMemoriesInList,
  upsertMemoryInList,
  validateId,
  validateKey,
} from '../../src/core/index.js';

describe('ids and keys', () => {
  it('accepts unicode, spaces and dots, refuses separators, controls, dots-only and long ids', () => {
    for (const ok of ['會話-ü', 'with space', 'support-ticket.42', '...', 'a'.repeat(255)]) {
      expect(() => validateId('conversationId', ok)).not.toThrow();
    }
    for (const bad of ['.', '..', 'a/b', 'a\\b', '\u0000', '\u001f', '\u007f', 'a'.repeat(256), '\ud83d']) {
      expect(() => validateId('conversationId', bad)).toThrow(InvalidIdError);
    }
  });

  it('allows any well-formed key without NUL', () => {
    expect(() => validateKey('cacheKey', 'a/b?c=1 ../..')).not.toThrow();
    expect(() => validateKey('cacheKey', 'a\u0000b')).toThrow(InvalidIdError);
    expect(() => validateKey('stateKey', '')).toThrow(/stateKey/);
  });
});

describe('toJsonValue', () => {
  it('copies plain JSON deeply and converts Dates', () => {
    const input = { a: [1, { b: 'c' }], d: new Date(0), e: undefined };
    const out = toJsonValue(input, 'test');
    expect(out).toEqual({ a: [1, { b: 'c' }], d: '1970-01-01T00:00:00.000Z' });
    expect(out).not.toBe(input);
  });

  it('names the path of an unserialisable value', () => {
    expect(() => toJsonValue({ steps: [{ score: NaN }] }, 'chain')).toThrow(/\$\.steps\[0\]\.score/);
    expect(() => toJsonValue({ n: 1n }, 'x')).toThrow(SerializationError);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { s: 1 };
    expect(toJsonValue({ a: shared, b: shared }, 'x')).toEqual({ a: { s: 1 }, b: { s: 1 } });
  });

  it('produces canonical JSON independent of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});

describe('timestamps', () => {
  it('formats with microseconds and +00:00, and parses both Z and offsets', () => {
    const date = new Date('2025-03-06T10:00:00.123Z');
    expect(formatTimestamp(date)).toBe('2025-03-06T10:00:00.123000+00:00');
    expect(parseTimestamp('2025-03-06T10:00:00.123000+00:00')).toBe(date.getTime());
    expect(parseTimestamp('2025-03-06T10:00:00.123Z')).toBe(date.getTime());
    expect(parseTimestamp('2025-03-06T12:00:00.123+02:00')).toBe(date.getTime());
    expect(parseTimestamp('2025-03-06T10:00:00')).toBe(Date.UTC(2025, 2, 6, 10));
    expect(parseTimestamp('not a date')).toBeNull();
  });

  it('treats an unparsable or past expiry as expired', () => {
    expect(isCacheExpired(null, Date.now())).toBe(false);
    expect(isCacheExpired('garbage', Date.now())).toBe(true);
    expect(isCacheExpired('2000-01-01T00:00:00+00:00', Date.now())).toBe(true);
    expect(isCacheExpired('2999-01-01T00:00:00+00:00', Date.now())).toBe(false);
  });
});

describe('records', () => {
  it('builds memory records with the id argument winning and created_at kept', () => {
    const write = buildMemoryWrite('m1', { memory_id: 'other', text: 't' }, 'NOW');
    expect(write.record).toEqual({ memory_id: 'm1', created_at: 'NOW', text: 't' });
    expect(Object.keys(write.record)).toEqual(['memory_id', 'created_at', 'text']);
    expect(buildMemoryWrite('m1', { created_at: 'THEN' }, 'NOW').record.created_at).toBe('THEN');
  });

  it('replaces in place keeping the old created_at', () => {
    const list = [
      { memory_id: 'a', created_at: 'T1', v: 1 },
      { memory_id: 'b', created_at: 'T2', v: 1 },
    ];
    const out = upsertMemoryInList(list, buildMemoryWrite('a', { v: 2 }, 'T3'));
    expect(out).toEqual([
      { memory_id: 'a', created_at: 'T1', v: 2 },
      { memory_id: 'b', created_at: 'T2', v: 1 },
    ]);
    expect(upsertMemoryInList(list, buildMemoryWrite('c', {}, 'T3'))).toHaveLength(3);
  });

  it('collapses an id listed more than once into one record at its first position', () => {
    // A list the Python file backend wrote: it appends an id stored again.
    const list = [
      { memory_id: 'a', created_at: 'T1', v: 1 },
      { memory_id: 'b', created_at: 'T2', v: 1 },
      { memory_id: 'a', created_at: 'T3', v: 3 },
      { memory_id: 'a', created_at: 'T4', v: 4 },
    ];
    expect(upsertMemoryInList(list, buildMemoryWrite('a', { v: 5 }, 'T5'))).toEqual([
      { memory_id: 'a', created_at: 'T1', v: 5 },
      { memory_id: 'b', created_at: 'T2', v: 1 },
    ]);
    expect(list).toHaveLength(4);
  });

  it('applies a batch of upserts as single upserts one after the other would', () => {
    // Lists with repeated ids (as the Python file backend writes) and batches repeating ids.
    const id = fc.constantFrom('a', 'b', 'c', 'd');
    const stored = fc.record({ memory_id: id, created_at: fc.constantFrom('T1', 'T2'), v: fc.nat(9) });
    const write = fc.record({ id, v: fc.nat(9), created_at: fc.option(fc.constant('T9')) });
    fc.assert(
      fc.property(fc.array(stored, { maxLength: 8 }), fc.array(write, { maxLength: 6 }), (list, items) => {
        const writes = items.map((item) =>
          buildMemoryWrite(
            item.id,
            item.created_at === null ? { v: item.v } : { v: item.v, created_at: item.created_at },
            'NOW',
          ),
        );
        const before = structuredClone(list);
        const expected = writes.reduce<JsonValue[]>((out, w) => upsertMemoryInList(out, w), list);
        expect(upsertMemoriesInList(list, writes)).toEqual(expected);
        expect(list).toEqual(before);
      }),
    );
  });

  it('puts stored_at first and keeps a given one', () => {
    expect(Object.keys(buildChainRecord({ x: 1 }, 'NOW'))).toEqual(['stored_at', 'x']);
    expect(buildChainRecord({ stored_at: 'THEN' }, 'NOW').stored_at).toBe('THEN');
  });
});

describe('parseBackendConfig', () => {
  const schema = z.object({
    baseDir: z.string().default('./d'),
    maxBackupFiles: z.number().int().default(5),
  });

  it('accepts snake_case, fills defaults and refuses unknown keys by name', () => {
    expect(parseBackendConfig('file', schema, { base_dir: '/x' }, { acceptSnakeCase: true })).toEqual({
      baseDir: '/x',
      maxBackupFiles: 5,
    });
    expect(() => parseBackendConfig('file', schema, { basedir: '/x' })).toThrow(/"basedir"/);
    expect(() => parseBackendConfig('file', schema, { maxBackupFiles: 'many' })).toThrow(ConfigError);
    expect(() =>
      parseBackendConfig('file', schema, { base_dir: '/x', baseDir: '/y' }, { acceptSnakeCase: true }),
    ).toThrow(/twice/);
  });
});

describe('KeyedMutex', () => {
  it('runs tasks with one key one at a time, in order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string, ms: number) =>
      mutex.run('k', async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([task('a', 20), task('b', 1), task('c', 5)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('keeps going after a task fails', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('k', async () => 7)).resolves.toBe(7);
  });

  it('starts the task of a free key at once and runs other keys alongside a held one', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const held = mutex.run('a', () => new Promise<void>((r) => (release = r)));
    const other = mutex.run('b', async () => void log.push('b ran'));
    // No promise stands before a free key's task: it has started before run() returned.
    expect(log).toEqual(['b ran']);
    const queued = mutex.run('a', async () => void log.push('second a ran'));
    await other;
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['b ran']);
    release();
    await Promise.all([held, queued]);
    expect(log).toEqual(['b ran', 'second a ran']);
  });

  it('passes the key on when a task throws before returning a promise', async () => {
    const mutex = new KeyedMutex();
    const throwing = (): Promise<void> => {
      throw new Error('sync boom');
    };
    await expect(mutex.run('k', throwing)).rejects.toThrow('sync boom');
    await expect(mutex.run('k', async () => 8)).resolves.toBe(8);
  });
});

describe('StorageInterface lifecycle', () => {
  it('stays closed when shutdown() is called while initialize() is still opening', async () => {
    const { FileStorage } = await import('../../src/backends/file/index.js');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const baseDir = await mkdtemp(join(tmpdir(), 'connectome-core-'));
    const storage = new FileStorage({ baseDir });
    const opening = storage.initialize();
    await storage.shutdown();
    await opening;
    expect(storage.isInitialized).toBe(false);
    await expect(storage.listConversations()).rejects.toThrow(/after shutdown/);
    await rm(baseDir, { recursive: true, force: true });
  });
});

describe('openPrepared', () => {
  it('returns the prepared connection, and closes it when preparing fails', async () => {
    const closed: string[] = [];
    const open = (name: string) => async () => ({ name, close: async () => void closed.push(name) });
    const ok = await openPrepared(open('good'), async () => undefined);
    expect(ok.name).toBe('good');
    await expect(
      openPrepared(open('bad'), async () => {
        throw new Error('schema too new');
      }),
    ).rejects.toThrow('schema too new');
    expect(closed).toEqual(['bad']);
  });

  // pg's pool.end() after a failed open could never settle (a client its driver lost track
  // of): until 2026-12-04 initialize() waited for it forever instead of rejecting.
  it('gives up on a close that does not settle, rejecting with the preparation error', async () => {
    let stuck = 0;
    const connection = { close: () => new Promise<void>(() => undefined) };
    await expect(
      openPrepared(
        async () => connection,
        async () => {
          throw new Error('refused at open');
        },
        { waitMillis: 50, onStuck: () => (stuck += 1) },
      ),
    ).rejects.toThrow('refused at open');
    expect(stuck).toBe(1);
  });

  it('does not report a close that settles in time as stuck', async () => {
    let stuck = 0;
    const closed: string[] = [];
    await expect(
      openPrepared(
        async () => ({ close: async () => void closed.push('closed') }),
        async () => {
          throw new Error('refused at open');
        },
        { waitMillis: 60_000, onStuck: () => (stuck += 1) },
      ),
    ).rejects.toThrow('refused at open');
    expect([closed, stuck]).toEqual([['closed'], 0]);
  });
});
