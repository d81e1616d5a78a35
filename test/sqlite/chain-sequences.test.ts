/**
 * SQLite: a chain's sequence number is its row id in the reference's `reasoning_chains` table
 * (AUTOINCREMENT), so rows the Python reference inserts are numbered on, and ids of removed
 * rows are never given out again.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { copyReferenceDb, useTempDir, withRawDb } from './helpers.js';

describe('SQLite: reasoning-chain sequence numbers', () => {
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const dir = useTempDir();

  async function open(dbPath: string, config: Record<string, unknown> = {}): Promise<SQLiteStorage> {
    const storage = new SQLiteStorage({ dbPath, ...config });
    await storage.initialize();
    opened.push(storage);
    return storage;
  }

  it('are the row ids of a reference database, and rows the reference inserts later are numbered on', async () => {
    const dbPath = await copyReferenceDb(dir());
    const storage = await open(dbPath);
    const ids = await withRawDb(dbPath, (db) =>
      db.all("SELECT id FROM reasoning_chains WHERE agent_id = 'agent_alpha' ORDER BY id"),
    );
    const loaded = await storage.loadSequencedReasoningChains('agent_alpha');
    expect(loaded.map((item) => item.sequence)).toEqual(ids.map((row) => row.id));
    await storage.trimReasoningChains('agent_alpha', 1);
    // The reference's own insert: no id given.
    await withRawDb(dbPath, (db) =>
      db.run('INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)', [
        'agent_alpha',
        JSON.stringify({ by: 'reference' }),
        '2026-01-01T00:00:00.000000+00:00',
      ]),
    );
    const after = await storage.loadSequencedReasoningChains('agent_alpha');
    expect(after.map((item) => item.chain.by ?? null)).toEqual([null, 'reference']);
    expect(after[0]).toEqual(loaded.at(-1));
    expect(after[1]!.sequence).toBeGreaterThan(after[0]!.sequence);
  });

  it('never reuses the id of the newest row after it was removed (also across reopen)', async () => {
    const dbPath = join(dir(), 'store.db');
    const storage = await open(dbPath);
    for (let n = 0; n < 3; n += 1) await storage.storeReasoningChain('a', { n });
    const last = (await storage.loadSequencedReasoningChains('a')).at(-1)!.sequence;
    await storage.deleteReasoningChains('a');
    await storage.shutdown();
    const again = await open(dbPath, { maxReasoningChainsPerAgent: 1 });
    await again.storeReasoningChain('a', { n: 3 });
    await again.storeReasoningChain('a', { n: 4 });
    const [kept] = await again.loadSequencedReasoningChains('a');
    expect(kept!.chain.n).toBe(4);
    expect(kept!.sequence).toBe(last + 2);
  });
});
