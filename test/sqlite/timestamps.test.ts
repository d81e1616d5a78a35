/**
 * Memory `created_at` and chain `stored_at` (D7, D8) on SQLite, where the reference keeps
 * them in a `TEXT NOT NULL` column: any JSON value the caller chose comes back unchanged,
 * the rows stay readable by the reference, and rows the reference wrote (the caller's
 * timestamp in the JSON text, "now" in the column) load with the caller's value.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { JsonValue } from '../../src/core/index.js';
import { REFERENCE_TIMESTAMP, useTempDir, withRawDb } from './helpers.js';

const NON_STRING: JsonValue[] = [12345, 0, null, true, { at: 1 }, ['2024']];

describe('SQLite: caller timestamps', () => {
  const dir = useTempDir();

  it('round-trips created_at / stored_at of any JSON type, in a row the reference can read', async () => {
    const dbPath = join(dir(), 'ts.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    for (const [i, value] of NON_STRING.entries()) {
      await storage.storeMemory('c', `m${i}`, { created_at: value, i });
      await storage.storeReasoningChain('a', { stored_at: value, i });
    }
    expect(await storage.loadMemories('c')).toEqual(
      NON_STRING.map((value, i) => ({ memory_id: `m${i}`, created_at: value, i })),
    );
    expect(await storage.loadReasoningChains('a')).toEqual(
      NON_STRING.map((value, i) => ({ stored_at: value, i })),
    );

    // D7: a replace without created_at keeps the caller's earlier non-string value.
    await storage.storeMemory('c', 'm0', { replaced: true });
    expect((await storage.loadMemories('c'))[0]).toEqual({
      memory_id: 'm0',
      created_at: 12345,
      replaced: true,
    });
    await storage.shutdown();

    // The timestamp columns still hold reference timestamps (TEXT, NOT NULL).
    const columns = await withRawDb(dbPath, (db) =>
      db.all('SELECT created_at FROM memories UNION ALL SELECT created_at FROM reasoning_chains'),
    );
    expect(columns).toHaveLength(2 * NON_STRING.length);
    for (const { created_at } of columns) expect(String(created_at)).toMatch(REFERENCE_TIMESTAMP);
  });

  it('loads reference rows with the timestamp from the JSON text, and keeps it on replace', async () => {
    const dbPath = join(dir(), 'ref.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const now = '2026-01-01T00:00:00.000000+00:00';
    const original = '2020-05-05T05:05:05.555555+00:00';
    // As the reference writes them: the caller's data (timestamps included) as JSON, "now" in the column.
    await withRawDb(dbPath, async (db) => {
      const insert =
        'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)';
      await db.run(insert, [
        'c',
        'str',
        JSON.stringify({ created_at: original, memory_id: 'other', t: 1 }),
        now,
      ]);
      await db.run(insert, ['c', 'nul', JSON.stringify({ created_at: null, t: 2 }), now]);
      await db.run(insert, ['c', 'none', JSON.stringify({ t: 3 }), now]);
      await db.run('INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)', [
        'a',
        JSON.stringify({ stored_at: null, s: 1 }),
        now,
      ]);
    });
    expect(await storage.loadMemories('c')).toEqual([
      { memory_id: 'str', created_at: original, t: 1 },
      { memory_id: 'nul', created_at: null, t: 2 },
      { memory_id: 'none', created_at: now, t: 3 },
    ]);
    expect(await storage.loadReasoningChains('a')).toEqual([{ stored_at: null, s: 1 }]);

    for (const id of ['str', 'nul', 'none']) await storage.storeMemory('c', id, { replaced: id });
    expect(await storage.loadMemories('c')).toEqual([
      { memory_id: 'str', created_at: original, replaced: 'str' },
      { memory_id: 'nul', created_at: null, replaced: 'nul' },
      { memory_id: 'none', created_at: now, replaced: 'none' },
    ]);
    await storage.shutdown();
    // The original string timestamp moved to the column, where the reference reads it.
    expect(
      await withRawDb(dbPath, (db) =>
        db.all("SELECT memory_data, created_at FROM memories WHERE memory_id = 'str'"),
      ),
    ).toEqual([{ memory_data: '{"replaced":"str"}', created_at: original }]);
  });
});
