/**
 * Every per-id statement is served by an index (`EXPLAIN QUERY PLAN`): no full-table scan,
 * and reads in insertion order need no sort of all an agent's rows (the "last N chains" read
 * walks the `(agent_id, id)` index backwards and stops after N).
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { SQL } from '../../src/backends/sqlite/sql.js';
import { useTempDir, withRawDb } from './helpers.js';

/** Statements that touch the rows of one id (or of an expiry range or format), by name in `SQL`. */
const PER_ID: ReadonlyArray<keyof typeof SQL> = [
  'selectConversation',
  'deleteConversation',
  'selectRawMessages',
  'deleteRawMessages',
  'selectMemory',
  'updateMemory',
  'selectMemories',
  'deleteMemories',
  'selectChains',
  'selectLastChains',
  'selectChunkInfo',
  'deleteChunkInfo',
  'selectCache',
  'deleteCache',
  'deleteExpiredCanonicalCache',
  'deleteCacheIfExpiry',
  'selectOtherFormatCache',
  'selectState',
  'deleteState',
];

/** Reads that must come out in insertion order without sorting every row of the id. */
const NO_SORT: ReadonlyArray<keyof typeof SQL> = ['selectRawMessages', 'selectChains', 'selectLastChains'];

describe('SQLite: query plans', () => {
  const dir = useTempDir();

  it('serves every per-id statement from an index', async () => {
    const dbPath = join(dir(), 'plans.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();

    const plans = await withRawDb(dbPath, async (db) => {
      const out: Record<string, string[]> = {};
      for (const name of PER_ID) {
        const sql = SQL[name];
        const params = Array.from(sql.match(/\?/g) ?? [], () => 'x');
        out[name] = (await db.all(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => String(r.detail));
      }
      return out;
    });
    for (const name of PER_ID) {
      const plan = plans[name] ?? [];
      expect({ name, plan }).toEqual({
        name,
        plan: expect.arrayContaining([expect.stringMatching(/^SEARCH /)]),
      });
      expect({ name, scans: plan.filter((step) => /^SCAN /.test(step)) }).toEqual({ name, scans: [] });
      for (const step of plan.filter((s) => /^SEARCH /.test(s))) {
        expect({ name, step }).toEqual({
          name,
          step: expect.stringMatching(/USING (COVERING )?INDEX|PRIMARY KEY/),
        });
      }
      if (NO_SORT.includes(name)) {
        expect({ name, sorts: plan.filter((step) => step.includes('TEMP B-TREE')) }).toEqual({
          name,
          sorts: [],
        });
      }
    }
  });

  it('counts and lists live cache entries from index ranges, not with a format test per row', async () => {
    const dbPath = join(dir(), 'stats-plan.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();
    const planOf = (sql: string) =>
      withRawDb(dbPath, async (db) =>
        (await db.all(`EXPLAIN QUERY PLAN ${sql}`, ['x'])).map((r) => String(r.detail)),
      );
    const plan = await planOf(SQL.stats);
    const cacheSteps = plan.filter((step) => step.includes('cache_entries') || step.includes('INDEX OR'));
    // An OR of "no expiry" and "canonical and after now" made SQLite test the format (GLOB) on
    // every live row: most of a stats call's time. Now each count is one index range, and the
    // other-format rows come from their partial index.
    expect(cacheSteps).toEqual([
      'SEARCH cache_entries USING COVERING INDEX idx_cache_entries_expires (expires_at=?)',
      // After now and before the first BLOB (an expiry that is no time, see sql.ts FIRST_BLOB).
      'SEARCH cache_entries USING COVERING INDEX idx_cache_entries_expires (expires_at>? AND expires_at<?)',
      'SEARCH cache_entries USING COVERING INDEX idx_cache_entries_other_expiry (expires_at>? AND expires_at<?)',
      // The other-format rows themselves (the range is the implied "expires_at IS NOT NULL").
      'SEARCH cache_entries USING COVERING INDEX idx_cache_entries_other_expiry (expires_at>?)',
    ]);
    // listCacheKeys: the live keys are the rows without expiry or after now, less the
    // other-format rows read once from their partial index (a list, not a test per row).
    const listPlan = await planOf(SQL.listCacheKeys);
    const list = listPlan.indexOf('LIST SUBQUERY 1');
    expect(list).toBeGreaterThan(0);
    expect(listPlan[list + 1]).toBe(
      'SEARCH cache_entries USING COVERING INDEX idx_cache_entries_other_expiry (expires_at>?)',
    );
  });
});
