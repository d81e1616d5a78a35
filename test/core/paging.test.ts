/**
 * Paging rules of the core, on the in-memory backend a user would write (it implements only the
 * full-list primitives, so the layer's default pages and windows serve it): cursor format,
 * hostile options, and abort while a read is pending.
 */
import {
  OperationAbortedError,
  type PageOptions,
  ValidationError,
  type WindowOptions,
} from '../../src/core/index.js';
import { raceAbort } from '../../src/core/abort.js';
import { decodeCursor, encodeCursor } from '../../src/core/paging.js';
import { InMemoryStorage } from '../support/memory-storage.js';

async function openMemory(): Promise<InMemoryStorage> {
  const storage = new InMemoryStorage();
  await storage.initialize();
  return storage;
}

describe('cursors', () => {
  it('are versioned base64url JSON naming their listing, and round-trip any key', () => {
    for (const key of ['a', '😀 above U+FFFF', 'line\nbreak', 'k'.repeat(5000)]) {
      const cursor = encodeCursor('cacheKeys', key);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toEqual({
        v: 1,
        l: 'cacheKeys',
        k: key,
      });
      expect(decodeCursor('cacheKeys', cursor)).toBe(key);
      expect(() => decodeCursor('systemStateKeys', cursor)).toThrow(ValidationError);
    }
  });

  it('carry any id a listing may end a page with, and refuse what no store holds', () => {
    // A store the reference wrote may list ids the id rule refuses (see `src/migration/screen.ts`).
    for (const id of ['../escape', 'team/alpha', 'team\\alpha', 'tab\there']) {
      expect(decodeCursor('conversations', encodeCursor('conversations', id))).toBe(id);
    }
    for (const id of ['nul\u0000', 'lone \ud800']) {
      const cursor = encodeCursor('conversations', id);
      expect(() => decodeCursor('conversations', cursor)).toThrow(/Invalid after: is not a cursor/);
    }
  });
});

describe('the default pages and windows of a registered backend', () => {
  it('pages, walks and windows like the built-in backends', async () => {
    const s = await openMemory();
    for (const id of ['b', 'a', '😀', '\ue000', 'c']) await s.storeConversation(id, { id });
    const first = await s.listConversations({ limit: 2 });
    expect(first.items).toEqual(['a', 'b']);
    const rest = await s.listConversations({ after: first.next, limit: 10 });
    expect(rest).toEqual({ items: ['c', '\ue000', '😀'], next: null });
    const walked: string[] = [];
    for await (const id of s.iterate('conversations', { pageSize: 1 })) walked.push(id);
    expect(walked).toEqual(['a', 'b', 'c', '\ue000', '😀']);
    await s.storeRawMessages('a', [1, 2, 3, 4]);
    expect(await s.loadRawMessages('a', { offset: 1, limit: 2 })).toEqual([2, 3]);
    expect(await s.loadRawMessages('a')).toEqual([1, 2, 3, 4]);
  });
});

describe('hostile options', () => {
  const throwingGetter = Object.defineProperty({}, 'limit', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const throwingProxy = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('boom');
      },
    },
  );

  // Array.isArray throws on it: until 2026-12-06 that TypeError escaped.
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  it.each([
    ['a getter that throws', throwingGetter],
    ['a Proxy that throws', throwingProxy],
    ['a revoked Proxy', revoked.proxy],
    ['a string', 'limit=10'],
    ['an unknown option', { size: 10 }],
  ])('%s is a ValidationError, never the thrown error', async (_name, options) => {
    const s = await openMemory();
    await expect(s.listAgents(options as PageOptions)).rejects.toThrow(ValidationError);
    await expect(s.loadMemories('c1', options as WindowOptions)).rejects.toThrow(ValidationError);
    await expect(s.getStorageStats(options as { signal?: AbortSignal })).rejects.toThrow(ValidationError);
    expect(() => s.iterate('agents', options as { pageSize?: number })).toThrow(ValidationError);
  });
});

describe('raceAbort', () => {
  it('rejects as soon as the signal fires, and resolves normally otherwise', async () => {
    const controller = new AbortController();
    let finish: (value: number) => void = () => undefined;
    const pending = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const raced = raceAbort(pending, controller.signal, 'getStorageStats');
    controller.abort(new Error('late'));
    await expect(raced).rejects.toBeInstanceOf(OperationAbortedError);
    finish(1);
    await expect(raceAbort(Promise.resolve(2), new AbortController().signal, 'x')).resolves.toBe(2);
  });
});
