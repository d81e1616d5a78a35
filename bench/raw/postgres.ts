/**
 * Raw PostgreSQL subject: a `pg.Pool` (10 connections, like the library), named prepared
 * statements, one row per record in its own schema, no index tables.
 */
import pg from 'pg';
import { dropSchema } from '../cleanup.js';
import { config } from '../config.js';
import type { BenchStore, JsonObject, JsonValue, OpenedStore, StoreLocation } from '../types.js';

const tables = (s: string): string => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.conversations (id text PRIMARY KEY, data text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.raw (id text PRIMARY KEY, data text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.chunks (id text PRIMARY KEY, data text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.memories (seq bigserial, id text, memory_id text, data text NOT NULL, PRIMARY KEY (id, memory_id));
CREATE TABLE IF NOT EXISTS ${s}.chains (seq bigserial PRIMARY KEY, agent text NOT NULL, data text NOT NULL);
CREATE INDEX IF NOT EXISTS chains_agent ON ${s}.chains (agent, seq);
CREATE TABLE IF NOT EXISTS ${s}.cache (key text PRIMARY KEY, data text NOT NULL, expires_at bigint NOT NULL);`;

const statements = (s: string) =>
  ({
    putConversation: `INSERT INTO ${s}.conversations (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
    getConversation: `SELECT data FROM ${s}.conversations WHERE id = $1`,
    putRaw: `INSERT INTO ${s}.raw (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
    getRaw: `SELECT data FROM ${s}.raw WHERE id = $1`,
    putChunks: `INSERT INTO ${s}.chunks (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
    getChunks: `SELECT data FROM ${s}.chunks WHERE id = $1`,
    putMemory: `INSERT INTO ${s}.memories (id, memory_id, data) VALUES ($1, $2, $3) ON CONFLICT (id, memory_id) DO UPDATE SET data = excluded.data`,
    getMemories: `SELECT data FROM ${s}.memories WHERE id = $1 ORDER BY seq`,
    putChain: `INSERT INTO ${s}.chains (agent, data) VALUES ($1, $2)`,
    getChains: `SELECT data FROM (SELECT seq, data FROM ${s}.chains WHERE agent = $1 ORDER BY seq DESC LIMIT $2) t ORDER BY seq`,
    putCache: `INSERT INTO ${s}.cache (key, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
    getCache: `SELECT data FROM ${s}.cache WHERE key = $1 AND expires_at > $2`,
    // Batches: one statement each, the rows as array parameters.
    putMemories: `INSERT INTO ${s}.memories (id, memory_id, data) SELECT $1, m, d FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(m, d, o)
      ORDER BY o ON CONFLICT (id, memory_id) DO UPDATE SET data = excluded.data`,
    putChains: `INSERT INTO ${s}.chains (agent, data) SELECT $1, d FROM unnest($2::text[]) WITH ORDINALITY AS t(d, o) ORDER BY o`,
    putCaches: `INSERT INTO ${s}.cache (key, data, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
      ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
    getCaches: `SELECT key, data FROM ${s}.cache WHERE key = ANY($1) AND expires_at > $2`,
    deleteCaches: `DELETE FROM ${s}.cache WHERE key = ANY($1)`,
    deleteMemories: `DELETE FROM ${s}.memories WHERE id = $1 AND memory_id = ANY($2)`,
    listConversations: `SELECT id FROM ${s}.conversations ORDER BY id`,
    listAll: `SELECT id FROM ${s}.conversations UNION SELECT id FROM ${s}.raw UNION SELECT id FROM ${s}.chunks UNION SELECT id FROM ${s}.memories ORDER BY id`,
    stats: `SELECT (SELECT count(*) FROM ${s}.conversations) AS conversations, (SELECT count(*) FROM ${s}.raw) AS raw,
      (SELECT count(*) FROM ${s}.chunks) AS chunks, (SELECT count(*) FROM ${s}.memories) AS memories,
      (SELECT count(*) FROM ${s}.chains) AS chains, (SELECT count(*) FROM ${s}.cache) AS cache`,
  }) as const;

/** Opens a raw PostgreSQL store in its own schema. */
export async function openRawPostgres(location: StoreLocation): Promise<OpenedStore> {
  const schemaName = `bench_${location.name}_raw`;
  const s = pg.escapeIdentifier(schemaName);
  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 10 });
  pool.on('error', () => {});
  await pool.query(tables(s));
  const sql = statements(s);
  type Name = keyof typeof sql;
  const query = async (name: Name, ...values: unknown[]): Promise<Array<Record<string, unknown>>> =>
    (await pool.query({ name: `${schemaName}_${name}`, text: sql[name], values })).rows;
  const one = async <T>(name: Name, ...values: unknown[]): Promise<T | null> => {
    const rows = await query(name, ...values);
    return rows[0] ? (JSON.parse(rows[0].data as string) as T) : null;
  };
  const ids = (rows: Array<Record<string, unknown>>): string[] => rows.map((row) => row.id as string);

  let open = true;
  const store: BenchStore = {
    storeConversation: (id, data) => query('putConversation', id, JSON.stringify(data)),
    loadConversation: (id) => one('getConversation', id),
    storeRawMessages: (id, messages) => query('putRaw', id, JSON.stringify(messages)),
    loadRawMessages: async (id) => (await one<JsonValue[]>('getRaw', id)) ?? [],
    storeMemory: (id, memoryId, data) =>
      query('putMemory', id, memoryId, JSON.stringify({ memory_id: memoryId, ...data })),
    loadMemories: async (id) =>
      (await query('getMemories', id)).map((row) => JSON.parse(row.data as string) as JsonObject),
    storeChunkInfo: (id, data) => query('putChunks', id, JSON.stringify(data)),
    loadChunkInfo: (id) => one<JsonObject>('getChunks', id),
    storeReasoningChain: (agentId, data) => query('putChain', agentId, JSON.stringify(data)),
    loadReasoningChains: async (agentId, limit) =>
      (await query('getChains', agentId, limit)).map((row) => JSON.parse(row.data as string) as unknown),
    storeCacheEntry: (key, data, ttl) =>
      query('putCache', key, JSON.stringify(data), Date.now() + ttl * 1000),
    loadCacheEntry: (key) => one('getCache', key, Date.now()),
    storeMemories: (id, memories) =>
      query(
        'putMemories',
        id,
        memories.map((m) => m.memoryId),
        memories.map(({ memoryId, data }) => JSON.stringify({ memory_id: memoryId, ...data })),
      ),
    appendReasoningChains: (agentId, chains) =>
      query(
        'putChains',
        agentId,
        chains.map((data) => JSON.stringify(data)),
      ),
    storeCacheEntries: (entries) =>
      query(
        'putCaches',
        entries.map((e) => e.key),
        entries.map((e) => JSON.stringify(e.data)),
        entries.map((e) => Date.now() + e.ttlSeconds * 1000),
      ),
    loadCacheEntries: async (keys) => {
      const rows = await query('getCaches', keys, Date.now());
      const found = new Map(
        rows.map((row) => [row.key as string, JSON.parse(row.data as string) as unknown]),
      );
      return keys.map((key) => found.get(key) ?? null);
    },
    deleteCacheEntries: (keys) => query('deleteCaches', keys),
    deleteMemories: (id, memoryIds) => query('deleteMemories', id, memoryIds),
    listConversations: async () => ids(await query('listConversations')),
    listAllConversationIds: async () => ids(await query('listAll')),
    getStorageStats: async () => (await query('stats'))[0],
    close: async () => {
      if (open) await pool.end();
      open = false;
    },
  };
  return {
    store,
    drop: async () => {
      await store.close();
      await dropSchema(schemaName);
    },
  };
}
