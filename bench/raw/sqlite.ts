/**
 * Raw SQLite subject: `sqlite3` with one prepared statement per operation, WAL and
 * `synchronous=FULL` (the library's durability), one row per record, no index tables.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { BenchStore, JsonObject, JsonValue, OpenedStore, StoreLocation } from '../types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memories (id TEXT, memory_id TEXT, data TEXT NOT NULL, PRIMARY KEY (id, memory_id));
CREATE TABLE IF NOT EXISTS chains (seq INTEGER PRIMARY KEY, agent TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chains_agent ON chains (agent, seq);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL);`;

const SQL = {
  putConversation: 'INSERT OR REPLACE INTO conversations (id, data) VALUES (?, ?)',
  getConversation: 'SELECT data FROM conversations WHERE id = ?',
  putRaw: 'INSERT OR REPLACE INTO raw (id, data) VALUES (?, ?)',
  getRaw: 'SELECT data FROM raw WHERE id = ?',
  putChunks: 'INSERT OR REPLACE INTO chunks (id, data) VALUES (?, ?)',
  getChunks: 'SELECT data FROM chunks WHERE id = ?',
  putMemory:
    'INSERT INTO memories (id, memory_id, data) VALUES (?, ?, ?) ON CONFLICT (id, memory_id) DO UPDATE SET data = excluded.data',
  getMemories: 'SELECT data FROM memories WHERE id = ? ORDER BY rowid',
  putChain: 'INSERT INTO chains (agent, data) VALUES (?, ?)',
  getChains:
    'SELECT data FROM (SELECT seq, data FROM chains WHERE agent = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
  putCache: 'INSERT OR REPLACE INTO cache (key, data, expires_at) VALUES (?, ?, ?)',
  getCache: 'SELECT data FROM cache WHERE key = ? AND expires_at > ?',
  getCaches: 'SELECT key, data FROM cache WHERE key IN (SELECT value FROM json_each(?)) AND expires_at > ?',
  deleteCaches: 'DELETE FROM cache WHERE key IN (SELECT value FROM json_each(?))',
  deleteMemories: 'DELETE FROM memories WHERE id = ? AND memory_id IN (SELECT value FROM json_each(?))',
  listConversations: 'SELECT id FROM conversations ORDER BY id',
  listAll:
    'SELECT id FROM conversations UNION SELECT id FROM raw UNION SELECT id FROM chunks UNION SELECT id FROM memories ORDER BY id',
  stats: `SELECT (SELECT count(*) FROM conversations) AS conversations, (SELECT count(*) FROM raw) AS raw,
    (SELECT count(*) FROM chunks) AS chunks, (SELECT count(*) FROM memories) AS memories,
    (SELECT count(*) FROM chains) AS chains, (SELECT count(*) FROM cache) AS cache`,
} as const;

type Row = Record<string, unknown>;

/** Opens a raw SQLite database file under `location.dir`. */
export async function openRawSqlite(location: StoreLocation): Promise<OpenedStore> {
  const path = join(location.dir, `${location.name}-raw.db`);
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(path, (error) => (error ? reject(error) : resolve(opened)));
  });
  const exec = (sql: string): Promise<void> =>
    new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  await exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; ${SCHEMA}`);
  const statements = new Map<keyof typeof SQL, sqlite3.Statement>();
  for (const [name, sql] of Object.entries(SQL) as Array<[keyof typeof SQL, string]>) {
    statements.set(name, db.prepare(sql));
  }
  const run = (name: keyof typeof SQL, ...params: unknown[]): Promise<void> =>
    new Promise((resolve, reject) =>
      statements.get(name)!.run(params, (error) => (error ? reject(error) : resolve())),
    );
  const all = (name: keyof typeof SQL, ...params: unknown[]): Promise<Row[]> =>
    new Promise((resolve, reject) =>
      statements.get(name)!.all<Row>(params, (error, rows) => (error ? reject(error) : resolve(rows))),
    );
  const one = async <T>(name: keyof typeof SQL, ...params: unknown[]): Promise<T | null> => {
    const rows = await all(name, ...params);
    return rows[0] ? (JSON.parse(rows[0].data as string) as T) : null;
  };
  const column = (rows: Row[], key: string): string[] => rows.map((row) => row[key] as string);
  const transaction = async (fn: () => Promise<unknown>): Promise<void> => {
    await exec('BEGIN IMMEDIATE');
    try {
      await fn();
      await exec('COMMIT');
    } catch (error) {
      await exec('ROLLBACK');
      throw error;
    }
  };

  const store: BenchStore = {
    storeConversation: (id, data) => run('putConversation', id, JSON.stringify(data)),
    loadConversation: (id) => one('getConversation', id),
    storeRawMessages: (id, messages) => run('putRaw', id, JSON.stringify(messages)),
    loadRawMessages: async (id) => (await one<JsonValue[]>('getRaw', id)) ?? [],
    storeMemory: (id, memoryId, data) =>
      run('putMemory', id, memoryId, JSON.stringify({ memory_id: memoryId, ...data })),
    loadMemories: async (id) =>
      (await all('getMemories', id)).map((row) => JSON.parse(row.data as string) as JsonObject),
    storeChunkInfo: (id, data) => run('putChunks', id, JSON.stringify(data)),
    loadChunkInfo: (id) => one<JsonObject>('getChunks', id),
    storeReasoningChain: (agentId, data) => run('putChain', agentId, JSON.stringify(data)),
    loadReasoningChains: async (agentId, limit) =>
      (await all('getChains', agentId, limit)).map((row) => JSON.parse(row.data as string) as unknown),
    storeCacheEntry: (key, data, ttl) => run('putCache', key, JSON.stringify(data), Date.now() + ttl * 1000),
    loadCacheEntry: (key) => one('getCache', key, Date.now()),
    // Batches: one transaction of prepared-statement runs (one commit, one fsync).
    storeMemories: (id, memories) =>
      transaction(() =>
        Promise.all(
          memories.map(({ memoryId, data }) =>
            run('putMemory', id, memoryId, JSON.stringify({ memory_id: memoryId, ...data })),
          ),
        ),
      ),
    appendReasoningChains: (agentId, chains) =>
      transaction(() => Promise.all(chains.map((data) => run('putChain', agentId, JSON.stringify(data))))),
    storeCacheEntries: (entries) =>
      transaction(() =>
        Promise.all(
          entries.map(({ key, data, ttlSeconds }) =>
            run('putCache', key, JSON.stringify(data), Date.now() + ttlSeconds * 1000),
          ),
        ),
      ),
    loadCacheEntries: async (keys) => {
      const rows = await all('getCaches', JSON.stringify(keys), Date.now());
      const found = new Map(
        rows.map((row) => [row.key as string, JSON.parse(row.data as string) as unknown]),
      );
      return keys.map((key) => found.get(key) ?? null);
    },
    deleteCacheEntries: (keys) => run('deleteCaches', JSON.stringify(keys)),
    deleteMemories: (id, memoryIds) => run('deleteMemories', id, JSON.stringify(memoryIds)),
    listConversations: async () => column(await all('listConversations'), 'id'),
    listAllConversationIds: async () => column(await all('listAll'), 'id'),
    getStorageStats: async () => (await all('stats'))[0],
    inTransaction: (fn) => transaction(fn),
    close: async () => {
      for (const statement of statements.values()) {
        await new Promise<void>((resolve) => statement.finalize(() => resolve()));
      }
      statements.clear();
      await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
    },
  };
  return {
    store,
    drop: async () => {
      if (statements.size > 0) await store.close();
      for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true });
    },
  };
}
