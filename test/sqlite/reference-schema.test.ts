/**
 * A database written here has the reference's schema (same tables, columns, indexes and
 * names) and the rows the reference writes (JSON text columns, reference timestamps), so
 * the Python reference can open and use it.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { LIBRARY_INDEXES } from '../../src/backends/sqlite/schema.js';
import {
  REFERENCE_TABLE_NAMES,
  REFERENCE_TIMESTAMP,
  type RawDb,
  referenceExpectations,
  type Row,
  useTempDir,
  withRawDb,
} from './helpers.js';
import { FIXTURE_DB } from '../support/reference-fixture.js';

const { inputs } = referenceExpectations();
const referenceDb = FIXTURE_DB;

/** Writes the reference's inputs in the order its fixture generator did. */
async function storeInputs(storage: SQLiteStorage): Promise<void> {
  for (const [id, data] of Object.entries(inputs.conversations)) {
    await storage.storeConversation(id, data);
    const messages = inputs.raw_messages[id];
    if (messages) await storage.storeRawMessages(id, messages);
    for (const memory of inputs.memories[id] ?? [])
      await storage.storeMemory(id, memory.memory_id, memory.memory_data);
    const chunks = inputs.chunk_info[id];
    if (chunks) await storage.storeChunkInfo(id, chunks);
  }
  for (const [agent, chains] of Object.entries(inputs.reasoning_chains)) {
    for (const chain of chains) await storage.storeReasoningChain(agent, chain);
  }
  for (const entry of inputs.cache) await storage.storeCacheEntry(entry.key, entry.data, entry.ttl);
  for (const [key, data] of Object.entries(inputs.system_state)) await storage.storeSystemState(key, data);
}

// Data columns hold JSON text; the reference's spacing differs (`json.dumps`), the values do not.
const JSON_COLUMNS = new Set([
  'data',
  'message_data',
  'memory_data',
  'chain_data',
  'chunk_data',
  'cache_data',
  'state_data',
]);
const TIME_COLUMNS = new Set(['created_at', 'updated_at', 'expires_at']);

/** A row with JSON columns parsed and timestamps replaced by their shape. */
function comparable(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (JSON_COLUMNS.has(column)) out[column] = JSON.parse(String(value));
    else if (TIME_COLUMNS.has(column))
      out[column] = value === null ? null : REFERENCE_TIMESTAMP.test(String(value));
    else out[column] = value;
  }
  return out;
}

describe('SQLite: writing in the reference schema', () => {
  const dir = useTempDir();

  it('creates exactly the reference tables, columns and indexes, plus only the documented extra indexes and search tables', async () => {
    const dbPath = join(dir(), 'new.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();

    const ours = await withRawDb(dbPath, (db) => db.schema());
    const theirs = await withRawDb(referenceDb, (db) => db.schema());
    // Extra indexes are invisible to the reference; no columns are added, and the only extra
    // tables are the full-text index's (`search_*`, see search-sql.ts), which the reference never names.
    const extra = LIBRARY_INDEXES.map((sql) => /INDEX IF NOT EXISTS (\w+)/.exec(sql)?.[1]);
    const search = ours.filter((e) => e.name.startsWith('search_')).map((e) => e.name);
    expect(search).toEqual(expect.arrayContaining(['search_fts', 'search_docs', 'search_docs_scope']));
    expect(ours.filter((e) => !extra.includes(e.name) && !search.includes(e.name))).toEqual(theirs);
    expect(ours.filter((e) => extra.includes(e.name)).map((e) => e.type)).toEqual(extra.map(() => 'index'));
    for (const table of REFERENCE_TABLE_NAMES) {
      const columns = (db: RawDb) =>
        db.all(`SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info('${table}')`);
      expect(await withRawDb(dbPath, columns)).toEqual(await withRawDb(referenceDb, columns));
    }
  });

  it('writes the rows the reference writes', async () => {
    const dbPath = join(dir(), 'new.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storeInputs(storage);
    await storage.shutdown();

    for (const table of REFERENCE_TABLE_NAMES) {
      const query = `SELECT * FROM ${table} ORDER BY rowid`;
      const ours = (await withRawDb(dbPath, (db) => db.all(query))).map(comparable);
      // The reference deleted its expired entry when the fixture generator read it back.
      const kept = table === 'cache_entries' ? ours.filter((r) => r.cache_key !== 'expired_entry') : ours;
      const theirs = (await withRawDb(referenceDb, (db) => db.all(query))).map(comparable);
      expect({ table, rows: kept }).toEqual({ table, rows: theirs });
    }
  });

  it('keeps no timestamp in the JSON text that the reference keeps in a column', async () => {
    const dbPath = join(dir(), 'new.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const createdAt = '2024-01-02T03:04:05.678901+00:00';
    await storage.storeMemory('c', 'm', { memory_id: 'ignored', created_at: createdAt, text: 'hi' });
    await storage.storeReasoningChain('a', { stored_at: createdAt, step: 1 });
    await storage.shutdown();

    const [memory] = await withRawDb(dbPath, (db) =>
      db.all('SELECT memory_id, memory_data, created_at FROM memories'),
    );
    expect(memory).toEqual({ memory_id: 'm', memory_data: '{"text":"hi"}', created_at: createdAt });
    const [chain] = await withRawDb(dbPath, (db) =>
      db.all('SELECT chain_data, created_at FROM reasoning_chains'),
    );
    expect(chain).toEqual({ chain_data: '{"step":1}', created_at: createdAt });
  });
});
