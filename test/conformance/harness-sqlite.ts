/** Conformance harnesses for SQLiteStorage: a private `:memory:` database, and a real file in a temp dir. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSqliteDriverInstalled, SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { loadSqliteDriver } from '../../src/backends/sqlite/driver.js';
import { type BackendHarness, BROKEN_JSON, type BrokenKind } from './harness.js';

/** The JSON column of each kind's table (SQLite and PostgreSQL alike). */
export const BROKEN_COLUMNS: Record<BrokenKind, string> = {
  reasoning_chains: 'chain_data',
  raw_messages: 'message_data',
  memories: 'memory_data',
};

/** The column naming a record's agent or conversation. */
export const ownerColumn = (kind: BrokenKind): string =>
  kind === 'reasoning_chains' ? 'agent_id' : 'conversation_id';

/**
 * The UPDATE that breaks `table`'s records of one kind of `$2` (`$3`: the one record of
 * `breakRecords`, see harness.ts); `?` placeholders become `$n` for PostgreSQL by `numbered`.
 */
export function breakSql(kind: BrokenKind, table: string, record: number | string | undefined): string {
  const all = `UPDATE ${table} SET ${BROKEN_COLUMNS[kind]} = $1 WHERE ${ownerColumn(kind)} = $2`;
  if (record === undefined) return all;
  if (kind === 'raw_messages') return `${all} AND message_index = $3`;
  if (kind === 'memories') return `${all} AND memory_id = $3`;
  // A chain's position: its row is the agent's ($2) ($3+1)-th by id.
  return `${all} AND id = (SELECT id FROM ${table} WHERE agent_id = $2 ORDER BY id LIMIT 1 OFFSET $3)`;
}

const available = async (): Promise<true | string> =>
  isSqliteDriverInstalled() || 'the sqlite3 driver is not installed (npm install sqlite3 sqlite)';

/** Each instance is its own empty in-memory database, so instances never share data. */
export const sqliteMemoryHarness: BackendHarness = {
  name: 'sqlite (:memory:)',
  sharedStore: false,
  available,
  async createStore() {
    return {
      async open(extraConfig = {}) {
        const storage = new SQLiteStorage({ dbPath: ':memory:', ...extraConfig });
        await storage.initialize();
        return storage;
      },
      // Nothing outlives an instance.
      exists: async () => false,
      shownAs: [':memory:'],
      cleanup: async () => undefined,
    };
  },
};

/** A database file in a fresh temp dir; every instance opens the same file. */
export const sqliteFileHarness: BackendHarness = {
  name: 'sqlite (file)',
  breaksRecords: true,
  breaksOneRecord: true,
  sharedStore: true,
  available,
  async createStore() {
    const dir = await mkdtemp(join(tmpdir(), 'connectome-sqlite-'));
    const dbPath = join(dir, 'connectome.db');
    return {
      async open(extraConfig = {}) {
        const storage = new SQLiteStorage({ dbPath, ...extraConfig });
        await storage.initialize();
        return storage;
      },
      exists: async () => existsSync(dbPath),
      shownAs: [dbPath],
      cleanup: () => rm(dir, { recursive: true, force: true }),
      childSpec: { backend: 'sqlite', config: { dbPath } },
      async breakRecords(kind, owner, record) {
        const db = await (await loadSqliteDriver())(dbPath, false);
        try {
          // SQLite takes `$n` as the n-th parameter (`?NNN`-style), as PostgreSQL does.
          await db.run(breakSql(kind, kind, record).replace(/\$(\d)/g, '?$1'), [
            BROKEN_JSON,
            owner,
            ...(record === undefined ? [] : [record]),
          ]);
        } finally {
          await db.close();
        }
      },
    };
  },
};
