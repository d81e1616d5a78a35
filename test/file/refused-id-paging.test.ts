/**
 * The Python reference uses ids raw as folder names, so its store may hold folders no id of
 * this library may name (`team\alpha`, a control character): listings show them (migration
 * screens and reports them, see `src/migration/screen.ts`), so a page may end with one, and
 * the `next` cursor of that page must lead on instead of being refused as "not a cursor".
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** A conversation folder as the reference writes one, for an id of its own choosing. */
function referenceConversation(baseDir: string, id: string): void {
  const dir = path.join(baseDir, 'conversations', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'current.json'), JSON.stringify({ conversation_id: id }));
}

describe('file listings: paging past ids the id rule refuses', () => {
  it('walks every listed id, a page ending with a refused one included', async () => {
    const s = await openStore({ searchIndex: false });
    const ids = ['a', 'team\\alpha', 'tab\there', 'z'];
    for (const id of ids) referenceConversation(s.baseDir, id);
    const sorted = [...ids].sort();
    expect(await s.listConversations()).toEqual(sorted);
    const walked: string[] = [];
    for await (const id of s.iterate('conversations', { pageSize: 1 })) walked.push(id);
    expect(walked).toEqual(sorted);
    let page = await s.listConversations({ limit: 1 });
    const paged = [...page.items];
    while (page.next !== null) {
      page = await s.listConversations({ after: page.next, limit: 1 });
      paged.push(...page.items);
    }
    expect(paged).toEqual(sorted);
  });

  it('pages past a cache key longer than any cursor length limit (keys have none)', async () => {
    const s = await openStore({ searchIndex: false });
    // Longer than a write now accepts (MAX_KEY_BYTES), as a store written before that limit may
    // hold: the file is planted under the name the backend gives such a key.
    const long = 'k'.repeat(60_000); // its cursor is 80,040 characters
    const name = `${'k'.repeat(180)}~${createHash('sha256').update(long).digest('hex').slice(0, 16)}.json`;
    const envelope = {
      cache_key: long,
      data: { key: long.length },
      stored_at: '2026-01-01T00:00:00.000000+00:00',
      expires_at: null,
    };
    fs.writeFileSync(path.join(s.baseDir, 'cache', name), JSON.stringify(envelope));
    for (const key of ['a', 'z']) await s.storeCacheEntry(key, { key: key.length });
    const walked: string[] = [];
    for await (const key of s.iterate('cacheKeys', { pageSize: 1 })) walked.push(key);
    expect(walked).toEqual(['a', long, 'z']);
    expect(await s.loadCacheEntry(long)).toEqual({ key: long.length });
  });
});
