/**
 * A SQLite search answers from one state of the index, whatever another instance or the same
 * one commits between its statements: a `reindex()` that has emptied the index and not yet
 * refilled it, or a writer moving waiting entries into FTS5; and a stale entry it met is
 * dropped only if still stale then. Each test commits that change at the exact point between
 * two of the search's steps (through the rebuild's test seam and a wrapper around the searching
 * connection), so none depends on timing.
 */
import type { SqliteConnection, Transaction } from '../../src/backends/sqlite/connection.js';
import type { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SqliteSearchIndex } from '../../src/backends/sqlite/search-index.js';
import { PENDING_LIMIT } from '../../src/backends/sqlite/search-sql.js';
import type { SearchHit, SearchKind } from '../../src/core/index.js';
import { useSqliteStores, useTempDir, withRawDb } from './helpers.js';

/** The store's connection and index (protected members, reached for the seams). */
function internals(s: SQLiteStorage): { db: SqliteConnection; fts: SqliteSearchIndex } {
  return s as unknown as { db: SqliteConnection; fts: SqliteSearchIndex };
}

function idOf(hit: SearchHit): string {
  if (hit.kind === 'memories') return `${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `chain:${hit.agentId}:${hit.chainIndex}`;
  if (hit.kind === 'raw_messages') return `raw:${hit.conversationId}:${hit.messageIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function ids(s: SQLiteStorage, kinds?: SearchKind[]): Promise<string[]> {
  return (await s.search({ text: 'stable', limit: 100, ...(kinds && { kinds }) })).map(idOf).sort();
}

/**
 * 20 memories, 2 raw messages and a chain with the word, every entry in FTS5, and with
 * `waiting` one more memory whose entry waits outside FTS5.
 */
async function seed(s: SQLiteStorage, waiting = false): Promise<string[]> {
  const memories = Array.from({ length: 20 }, (_, i) => ({ memoryId: `s${i}`, data: { t: `stable ${i}` } }));
  await s.storeMemories('c', memories);
  await s.storeRawMessages('c', [{ t: 'stable raw' }, { t: 'stable raw two' }]);
  await s.storeReasoningChain('agent', { t: 'stable chain' });
  await s.reindex();
  if (waiting) await s.storeMemory('c', 'waiting', { t: 'stable waiting' });
  const all = await ids(s);
  expect(all).toHaveLength(waiting ? 24 : 23);
  return all;
}

/** A rebuild of `s` that stops once its first transaction (emptying the index) has committed. */
function pausedRebuild(s: SQLiteStorage): { cleared: Promise<void>; finish: () => Promise<number> } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let cleared!: () => void;
  const wasCleared = new Promise<void>((resolve) => (cleared = resolve));
  internals(s).fts.afterStep = async (step) => {
    if (step !== 'cleared') return;
    cleared();
    await released;
  };
  const done = s.reindex();
  return {
    cleared: wasCleared,
    finish: async () => {
      release();
      return done;
    },
  };
}

/** Runs `between` once, right after the first statement of `s`'s connection whose SQL contains `marker`. */
/**
 * Makes `s` stand for a store of another process: this process's connections on one file take
 * turns for writes (and a read-only one for reads, file-locks.ts), so a search paused inside its
 * turn for another connection's rebuild would wait for ever; across processes that interleaving
 * happens, and it is the one tested.
 */
function asAnotherProcess(s: SQLiteStorage): void {
  const db = internals(s).db as unknown as { file: { leave(): void } | null };
  db.file?.leave();
  db.file = null;
}

function afterStatement(s: SQLiteStorage, marker: string, between: () => Promise<void>): void {
  const queries = (internals(s).db as unknown as { queries: Transaction }).queries;
  const all = queries.all.bind(queries);
  let done = false;
  queries.all = async <T>(sql: string, params?: Parameters<Transaction['all']>[1]): Promise<T[]> => {
    const rows = await all<T>(sql, params);
    if (!done && sql.includes(marker)) {
      done = true;
      await between();
    }
    return rows;
  };
}

/** The statement of the search's freshness check (see `readIndexLag` in search-lag.ts). */
const FRESHNESS_CHECK = 'EXISTS (SELECT 1 FROM search_pending) AS pending';

describe('SQLite search: one consistent state per search', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it.each([false, true])(
    'on the rebuilding instance, a search whose check ran before the rebuild emptied the index finds every record (an entry waiting: %s)',
    async (waiting) => {
      const s = await open(`${dir()}/same-${waiting}.db`);
      const all = await seed(s, waiting);
      const { db } = internals(s);
      const exclusive = db.exclusive.bind(db);
      let rebuild: ReturnType<typeof pausedRebuild> | undefined;
      // After the search's first locked section, the rebuild empties the index and commits.
      db.exclusive = async <T>(what: string, fn: (q: Transaction) => Promise<T>): Promise<T> => {
        const result = await exclusive(what, fn);
        if (what === 'search' && rebuild === undefined) {
          rebuild = pausedRebuild(s);
          await rebuild.cleared;
        }
        return result;
      };
      const found = await ids(s);
      expect(rebuild).toBeDefined();
      expect(await rebuild?.finish()).toBe(all.length);
      expect(found).toEqual(all);
      expect(await ids(s)).toEqual(all);
    },
  );

  for (const readOnly of [false, true]) {
    it(`another ${readOnly ? 'read-only' : 'writable'} instance finds every record when a rebuild empties the index after its check`, async () => {
      const dbPath = `${dir()}/other-${readOnly}.db`;
      const writer = await open(dbPath);
      const all = await seed(writer);
      const reader = await open(dbPath, { readOnly });
      asAnotherProcess(reader);
      let rebuild: ReturnType<typeof pausedRebuild> | undefined;
      afterStatement(reader, FRESHNESS_CHECK, async () => {
        rebuild = pausedRebuild(writer);
        await rebuild.cleared;
      });
      const found = await ids(reader);
      expect(rebuild).toBeDefined();
      expect(await rebuild?.finish()).toBe(23);
      expect(found).toEqual(all);
      expect(await ids(reader)).toEqual(all);
    });
  }

  it('on every step of a rebuild, searches of the same, another and a read-only instance find every record', async () => {
    const dbPath = `${dir()}/steps.db`;
    const writer = await open(dbPath);
    const all = await seed(writer);
    const other = await open(dbPath);
    const reader = await open(dbPath, { readOnly: true });
    const seen: string[][] = [];
    internals(writer).fts.afterStep = async () => {
      for (const s of [writer, other, reader]) seen.push(await ids(s));
    };
    expect(await writer.reindex()).toBe(23);
    expect(seen.length).toBeGreaterThan(3);
    for (const found of seen) expect(found).toEqual(all);
  });

  it('a stale entry a search met is not dropped once a write has indexed its row again', async () => {
    const dbPath = `${dir()}/stale.db`;
    const s = await open(dbPath);
    await s.storeConversation('c1', { t: 'stable one' });
    await s.storeConversation('c2', { t: 'other' });
    // Another program replaces c1's row: its entry is stale (its stamp is the old updated_at).
    await withRawDb(dbPath, (db) =>
      db.run(`UPDATE conversations SET data = '{"t":"stable changed"}', updated_at = '2030-01-01T00:00:00'
        WHERE conversation_id = 'c1'`),
    );
    const { db } = internals(s);
    const transaction = db.transaction.bind(db);
    let rewritten = false;
    // Before the search drops the stale entry, a write indexes c1 again under the same doc.
    db.transaction = async <T>(
      what: string,
      fn: (q: Transaction) => Promise<T>,
      read?: boolean,
    ): Promise<T> => {
      if (what === 'drop stale search entries' && !rewritten) {
        rewritten = true;
        await s.storeConversation('c1', { t: 'stable again' });
      }
      return transaction(what, fn, read);
    };
    expect(await ids(s, ['conversations'])).toEqual([]);
    expect(rewritten).toBe(true);
    expect(await ids(s, ['conversations'])).toEqual(['conversations:c1']);
  });

  it('a read-only search does not return a waiting entry twice when the writer moves it into FTS5 between its reads', async () => {
    const dbPath = `${dir()}/waiting.db`;
    const writer = await open(dbPath);
    await seed(writer);
    for (let i = 0; i < 3; i += 1) await writer.storeMemory('w', `w${i}`, { t: `stable waiting ${i}` });
    const reader = await open(dbPath, { readOnly: true });
    // Between the read of the waiting entries and FTS5's match, the writer's 16th waiting
    // entry moves them all into FTS5.
    afterStatement(reader, 'FROM search_pending p', async () => {
      for (let i = 3; i < PENDING_LIMIT; i += 1) {
        await writer.storeMemory('w', `w${i}`, { t: `other ${i}` });
      }
    });
    const found = await ids(reader);
    expect(new Set(found).size).toBe(found.length);
    expect(found).toHaveLength(26);
    expect(await ids(reader)).toEqual(found);
  });
});
