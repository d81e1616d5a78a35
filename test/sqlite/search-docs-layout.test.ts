/**
 * `search_docs` without its former `(kind, doc)` index: a file indexed by an older version
 * (which created it) loses it at the next writable open and keeps its entries; the kinds'
 * high-water marks walk the primary key instead, and rows another writer adds behind a kind
 * whose rowids sit below other kinds' entries are still found.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { highWater, highWaterBelow } from '../../src/backends/sqlite/search-marks.js';
import { SEARCH_KINDS } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

const KIND_INDEX = "SELECT name FROM sqlite_master WHERE name = 'search_docs_kind'";

describe('SQLite search_docs layout', () => {
  const dir = useTempDir();
  const opened: SQLiteStorage[] = [];
  const open = async (dbPath: string): Promise<SQLiteStorage> => {
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    opened.push(storage);
    return storage;
  };
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });

  it('drops the (kind, doc) index of an older layout at a writable open and keeps every entry', async () => {
    const dbPath = join(dir(), 'old-layout.db');
    const first = await open(dbPath);
    await first.storeMemory('c1', 'm1', { text: 'heron marsh' });
    await first.storeReasoningChain('a1', { thought: 'heron flight' });
    await first.shutdown();
    // The previous version's layout: its extra index on search_docs.
    await withRawDb(dbPath, (db) => db.run('CREATE INDEX search_docs_kind ON search_docs (kind, doc)'));

    const reopened = await open(dbPath);
    expect(await withRawDb(dbPath, (db) => db.all(KIND_INDEX))).toEqual([]);
    await reopened.storeMemory('c1', 'm2', { text: 'heron nest' });
    const hits = await reopened.search({ text: 'heron', limit: 10 });
    expect(hits.map((hit) => hit.kind).sort()).toEqual(['memories', 'memories', 'reasoning_chains']);
    expect((await reopened.getStorageStats()).search_index_entries).toBe(3);
  });

  it('reads every high-water mark from the primary key', async () => {
    const dbPath = join(dir(), 'plans.db');
    await (await open(dbPath)).shutdown();
    const details = await withRawDb(dbPath, async (db) => {
      const out: string[] = [];
      for (const kind of SEARCH_KINDS) {
        for (const sql of [`SELECT ${highWater(kind)}`, `SELECT ${highWaterBelow(kind, '?')}`]) {
          const params = sql.includes('?') ? [100] : [];
          const plan = await db.all(`EXPLAIN QUERY PLAN ${sql}`, params);
          out.push(...plan.map((row) => String(row.detail)).filter((d) => d.includes('search_docs')));
        }
      }
      return out;
    });
    expect(details).toHaveLength(SEARCH_KINDS.length * 2);
    for (const detail of details) expect(detail).toMatch(/^SEARCH search_docs USING INTEGER PRIMARY KEY/);
  });

  it("indexes another writer's rows of a kind whose rowids sit below other kinds' entries", async () => {
    const dbPath = join(dir(), 'behind.db');
    const storage = await open(dbPath);
    await storage.storeMemory('c1', 'm1', { text: 'egret one' });
    // Chains with rowids far above the memories' interleave entries above every memory's doc.
    for (let n = 0; n < 30; n += 1) await storage.storeReasoningChain('a1', { thought: `chain ${n}` });
    await withRawDb(dbPath, async (db) => {
      for (let n = 2; n <= 4; n += 1) {
        await db.run(
          "INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES ('c1', ?, ?, '2024-01-01T00:00:00.000000+00:00')",
          [`m${n}`, JSON.stringify({ text: `egret ${n}` })],
        );
      }
    });
    await storage.storeMemory('c1', 'm5', { text: 'egret five' });
    const hits = await storage.search({ text: 'egret', limit: 10 });
    expect(hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind)).sort()).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
  });
});
