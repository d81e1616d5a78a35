/**
 * The Python reference's own file store opens with FileStorage and every load returns what the
 * reference's file backend returned (expected.json, `file` column), minus the divergences:
 * D6 (no `_storage_metadata` / `_metadata` on load), D9 (sorted lists), core stats keys.
 */
import path from 'node:path';
import fse from 'fs-extra';
import type { FileStorage } from '../../src/backends/file/index.js';
import type { JsonObject } from '../../src/core/index.js';
import { FIXTURE_STORE, listTree, makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { type ReferenceExpectations, referenceExpectations } from '../support/reference-fixture.js';

/** The reference's result without the metadata field it adds (D6). */
function withoutField(value: JsonObject | null, field: string): JsonObject | null {
  if (value === null) return null;
  const copy = { ...value };
  delete copy[field];
  return copy;
}

describe('file backend reads the Python reference store', () => {
  let expected: ReferenceExpectations;
  let storage: FileStorage;
  let baseDir: string;

  beforeAll(async () => {
    expected = referenceExpectations();
    baseDir = await makeTempDir();
    await fse.copy(FIXTURE_STORE, baseDir);
    storage = await openStore({ baseDir });
  });

  afterAll(async () => {
    await shutdownAll();
    await removeTempDirs();
  });

  it('loads conversations without _storage_metadata', async () => {
    for (const [id, want] of Object.entries(expected.file.conversations)) {
      expect(await storage.loadConversation(id)).toEqual(withoutField(want, '_storage_metadata'));
    }
  });

  it('loads raw messages and memories (oldest first)', async () => {
    for (const [id, want] of Object.entries(expected.file.raw_messages)) {
      expect(await storage.loadRawMessages(id)).toEqual(want);
    }
    for (const [id, want] of Object.entries(expected.file.memories)) {
      expect(await storage.loadMemories(id)).toEqual(want);
    }
  });

  it('loads chunk info without _metadata', async () => {
    for (const [id, want] of Object.entries(expected.file.chunk_info)) {
      expect(await storage.loadChunkInfo(id)).toEqual(withoutField(want, '_metadata'));
    }
  });

  it('loads reasoning chains, all and the last 2', async () => {
    for (const [id, want] of Object.entries(expected.file.reasoning_chains)) {
      expect(await storage.loadReasoningChains(id)).toEqual(want);
    }
    for (const [id, want] of Object.entries(expected.file.reasoning_chains_last2)) {
      expect(await storage.loadReasoningChains(id, 2)).toEqual(want);
    }
  });

  it('loads cache entries (expired and missing are null) and system state', async () => {
    expect(expected.file.cache['expired_entry']).toBeNull();
    expect(expected.file.cache['missing-key']).toBeNull();
    for (const [key, want] of Object.entries(expected.file.cache)) {
      expect(await storage.loadCacheEntry(key)).toEqual(want);
    }
    for (const [key, want] of Object.entries(expected.file.system_state)) {
      expect(await storage.loadSystemState(key)).toEqual(want);
    }
  });

  it('reads the key from the envelope, not the file name', async () => {
    // cache/chunk_def456.json holds "chunk:def456": it is not the entry of the plain key.
    expect(await storage.loadCacheEntry('chunk_def456')).toBeNull();
    expect(await storage.loadCacheEntry('quote_req_x_1')).toBeNull();
    expect(await storage.loadCacheRecord('chunk:def456')).toEqual({
      data: expected.file.cache['chunk:def456'],
      storedAt: '2026-11-24T02:58:57.668081+00:00',
      expiresAt: '2036-11-21T02:58:57.668086+00:00',
    });
  });

  it('lists conversations, agents, cache and state keys (sorted); backups are not data', async () => {
    expect(await storage.listConversations()).toEqual(expected.file.list_conversations);
    expect(await storage.listAllConversationIds()).toEqual(expected.file.list_conversations);
    expect(await storage.listAgents()).toEqual(Object.keys(expected.inputs.reasoning_chains).sort());
    expect(await storage.listCacheKeys()).toEqual(['chunk:def456', 'chunk_abc123', 'quote/req?x=1']);
    expect(await storage.listSystemStateKeys()).toEqual(['last_compression_run', 'runtime_config']);
  });

  it('reports the reference stats and the core counts', async () => {
    const stats = await storage.getStorageStats();
    expect(stats).toMatchObject(expected.file.stats);
    const inputs = expected.inputs;
    const total = (lists: Record<string, unknown[]>) =>
      Object.values(lists).reduce((sum, list) => sum + list.length, 0);
    expect(stats).toMatchObject({
      storage_type: 'file',
      conversation_count: 3,
      raw_message_count: total(inputs.raw_messages),
      memory_count: total(inputs.memories),
      reasoning_chain_count: total(inputs.reasoning_chains),
      agent_count: 2,
      chunk_info_count: Object.keys(inputs.chunk_info).length,
      cache_entry_count: 3,
      system_state_count: 2,
      corrupt_files: [],
    });
    const files = await listTree(baseDir);
    let bytes = 0;
    for (const rel of files) bytes += (await fse.stat(path.join(baseDir, rel))).size;
    expect(stats.total_bytes).toBe(bytes);
    const sizes = stats.directory_sizes as Record<string, number>;
    expect(Object.keys(sizes).sort()).toEqual(['agents', 'cache', 'conversations', 'system']);
    expect(sizes.conversations! + sizes.agents! + sizes.cache! + sizes.system!).toBe(bytes);
  });

  it('leaves the reference files untouched by reads', async () => {
    for (const rel of await listTree(FIXTURE_STORE)) {
      const ours = await fse.readFile(path.join(baseDir, rel));
      expect(ours.equals(await fse.readFile(path.join(FIXTURE_STORE, rel)))).toBe(true);
    }
  });
});
