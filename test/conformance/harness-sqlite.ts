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
      cleanup: async () => undefined,
    };
  },
};

/** A database file in a fresh temp dir; every instance opens the same file. */
export const sqliteFileHarness: BackendHarness = {
  name: 'sqlite (file)',
  breaksRecords: true,
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
      cleanup: () => rm(dir, { recursive: true, force: true }),
      childSpec: { backend: 'sqlite', config: { dbPath } },
      async breakRecords(kind, owner) {
        const db = await (await loadSqliteDriver())(dbPath, false);
        try {
          await db.run(`UPDATE ${kind} SET ${BROKEN_COLUMNS[kind]} = ? WHERE ${ownerColumn(kind)} = ?`, [
            BROKEN_JSON,
            owner,
          ]);
        } finally {
          await db.close();
        }
      },
    };
  },
};
