/**
 * SQLite keyset pages walk an index from the cursor (`EXPLAIN QUERY PLAN`): every table is
 * searched by `id > ?`, none is scanned, and the only sort is the page's own (≤ limit rows,
 * inside `json_group_array(... ORDER BY ...)`), never one of every id.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { CACHE_PAGE_SQL, PAGE_SQL } from '../../src/backends/sqlite/paging.js';
import { useTempDir, withRawDb } from './helpers.js';

describe('SQLite: page query plans', () => {
  const dir = useTempDir();

  it('searches each table from the cursor with an index and sorts nothing but the page', async () => {
    const dbPath = join(dir(), 'plans.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();
    const statements: Array<[string, string]> = [...Object.entries(PAGE_SQL), ['cacheKeys', CACHE_PAGE_SQL]];
    const plans = await withRawDb(dbPath, async (db) => {
      const out: Array<[string, string[]]> = [];
      for (const [name, sql] of statements) {
        const params = Array.from(sql.match(/\?/g) ?? [], () => 'x');
        out.push([name, (await db.all(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => String(r.detail))]);
      }
      return out;
    });
    for (const [name, plan] of plans) {
      const tableScans = plan.filter((step) => /^SCAN (?!\(subquery|CONSTANT ROW)/.test(step));
      expect({ name, tableScans }).toEqual({ name, tableScans: [] });
      const sorts = plan.filter((step) => step.includes('TEMP B-TREE') && !step.includes('json_group_array'));
      expect({ name, sorts }).toEqual({ name, sorts: [] });
      const searches = plan.filter((step) => /^SEARCH .* USING (COVERING )?INDEX .*\((\w+)>\?\)$/.test(step));
      expect({ name, searched: searches.length > 0 }).toEqual({ name, searched: true });
    }
  });
});
