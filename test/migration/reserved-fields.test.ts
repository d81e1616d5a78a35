/**
 * A source whose records carry the reserved top-level fields: a Python reference SQLite
 * database into which a Python user stored conversations and chunk info as the reference
 * file backend loaded them (with `_storage_metadata` / `_metadata`). The migration copies
 * them without those fields, with a warning, and verification passes.
 */
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { JsonObject } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { copyReferenceDb, useTempDir, withRawDb } from '../sqlite/helpers.js';

const tempDir = useTempDir('connectome-migrate-reserved-');

const FILE_METADATA = { stored_at: '2025-03-06T10:00:00.000000', storage_backend: 'file' };

it('copies source records with their own _storage_metadata / _metadata without them, with a warning', async () => {
  const dbPath = await copyReferenceDb(tempDir());
  await withRawDb(dbPath, async (db) => {
    const metadata = JSON.stringify(FILE_METADATA);
    await db.run(
      "UPDATE conversations SET data = json_set(data, '$._storage_metadata', json(?)) WHERE conversation_id = 'conv_001'",
      [metadata],
    );
    await db.run(
      "UPDATE chunk_info SET chunk_data = json_set(chunk_data, '$._metadata', json(?)) WHERE conversation_id = 'conv_001'",
      [metadata],
    );
  });
  const source = new SQLiteStorage({ dbPath });
  const target = new FileStorage({ baseDir: join(tempDir(), 'target') });
  await source.initialize();
  await target.initialize();
  try {
    const conversation = (await source.loadConversation('conv_001')) as JsonObject;
    const chunk = (await source.loadChunkInfo('conv_001')) as JsonObject;
    expect(conversation._storage_metadata).toEqual(FILE_METADATA); // the source really hands them back
    expect(chunk._metadata).toEqual(FILE_METADATA);

    const summary = await migrateStorage(source, target);

    expect(summary).toMatchObject({ ok: true, conflicts: [], verification: { ok: true, differences: [] } });
    expect(summary.warnings).toEqual([
      'conversation "conv_001": the source\'s conversation has its own top-level "_storage_metadata", which the ' +
        'storage format reserves; copied without it',
      'conversation "conv_001": the source\'s chunk info has its own top-level "_metadata", which the storage ' +
        'format reserves; copied without it',
    ]);
    const conversationRest: JsonObject = { ...conversation };
    delete conversationRest._storage_metadata;
    const chunkRest: JsonObject = { ...chunk };
    delete chunkRest._metadata;
    expect(await target.loadConversation('conv_001')).toEqual(conversationRest);
    expect(await target.loadChunkInfo('conv_001')).toEqual(chunkRest);
    // The other records came across untouched.
    expect(await target.loadConversation('conv_002')).toEqual(await source.loadConversation('conv_002'));
    expect(summary.counts.conversations.copied).toBe(3);
  } finally {
    await source.shutdown();
    await target.shutdown();
  }
});
