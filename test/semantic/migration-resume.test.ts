/**
 * A migration into a store with semantic search that was cut between a record's write and the
 * upsert of its vectors (a killed process) left that record without vectors; the resumed run
 * keeps what the target holds, so it embeds the target again.
 */
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { createEmbedder, MemoryVectorStore } from '../../src/semantic/index.js';
import { failingAfter, populate } from '../migration/support.js';
import { useTempDir } from '../support/temp-dir.js';

/** Every vector id `vectors` holds, sorted. */
async function vectorIds(vectors: MemoryVectorStore): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | undefined; ;) {
    const page = await vectors.listIds(after === undefined ? {} : { after });
    ids.push(...page.items);
    if (page.next === null) return ids.sort();
    after = page.next;
  }
}

describe('a resumed migration into a store with semantic search', () => {
  const dir = useTempDir();

  it.each([4, 9])(
    'embeds the records the cut run left without vectors (cut after %i writes)',
    async (cut) => {
      const source = new FileStorage({ baseDir: join(dir(), 'data') });
      await source.initialize();
      await populate(source);
      const semantic = (vectorStore: MemoryVectorStore) => ({
        embedder: createEmbedder('hashing'),
        vectorStore,
      });
      // What an uncut copy holds.
      const wholeVectors = new MemoryVectorStore();
      const whole = new SQLiteStorage({ dbPath: join(dir(), 'whole.db'), semantic: semantic(wholeVectors) });
      expect((await migrateStorage(source, whole)).ok).toBe(true);
      // The cut run: its records written, their vectors not (the target open without semantic
      // search leaves what a process killed between the two steps leaves).
      const dbPath = join(dir(), 'copy.db');
      const plain = new SQLiteStorage({ dbPath });
      await expect(migrateStorage(source, failingAfter(plain, cut), { sourceId: 'src' })).rejects.toThrow(
        'simulated crash',
      );
      await plain.shutdown();

      const vectors = new MemoryVectorStore();
      const target = new SQLiteStorage({ dbPath, semantic: semantic(vectors) });
      try {
        const summary = await migrateStorage(source, target, { sourceId: 'src' });
        expect(summary).toMatchObject({ ok: true, resumed: true });
        // The vectors a reindex() computes from the target's records (chain sequences are row
        // ids, which the order of concurrent appends sets, so they are compared within one store).
        const migrated = await vectorIds(vectors);
        expect(migrated).toHaveLength((await vectorIds(wholeVectors)).length);
        await target.reindex();
        expect(await vectorIds(vectors)).toEqual(migrated);
        expect(summary.warnings).toEqual(
          expect.arrayContaining([expect.stringContaining('every record of the target was embedded again')]),
        );
      } finally {
        await Promise.all([source.shutdown(), whole.shutdown(), target.shutdown()]);
      }
    },
  );
});
