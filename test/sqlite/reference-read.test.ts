/**
 * A database written by the Python reference opens here, and every load returns what the
 * reference's own SQLite backend returned (`expected.json`, `sqlite` column), minus the
 * spec's divergences.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { copyReferenceDb, referenceExpectations, useTempDir } from './helpers.js';

const expected = referenceExpectations().sqlite;

describe('SQLite: reading the reference database', () => {
  const dir = useTempDir();
  let storage: SQLiteStorage;

  beforeEach(async () => {
    storage = new SQLiteStorage({ dbPath: await copyReferenceDb(dir()) });
    await storage.initialize();
  });
  afterEach(() => storage.shutdown());

  it('lists the conversations (sorted here, D9)', async () => {
    expect(await storage.listConversations()).toEqual([...expected.list_conversations].sort());
  });

  it('loads every conversation, and null for a missing one', async () => {
    for (const [id, value] of Object.entries(expected.conversations)) {
      expect(await storage.loadConversation(id)).toEqual(value);
    }
  });

  it('loads raw messages in order, and [] for a missing conversation', async () => {
    for (const [id, value] of Object.entries(expected.raw_messages)) {
      expect(await storage.loadRawMessages(id)).toEqual(value);
    }
  });

  it('loads memories in order with memory_id and created_at from the row', async () => {
    for (const [id, value] of Object.entries(expected.memories)) {
      expect(await storage.loadMemories(id)).toEqual(value);
    }
  });

  it('loads chunk info, and null where none was stored', async () => {
    for (const [id, value] of Object.entries(expected.chunk_info)) {
      expect(await storage.loadChunkInfo(id)).toEqual(value);
    }
  });

  it('loads reasoning chains with stored_at, all and the last two', async () => {
    for (const [agent, value] of Object.entries(expected.reasoning_chains)) {
      expect(await storage.loadReasoningChains(agent)).toEqual(value);
    }
    for (const [agent, value] of Object.entries(expected.reasoning_chains_last2)) {
      expect(await storage.loadReasoningChains(agent, 2)).toEqual(value);
    }
    expect(await storage.listAgents()).toEqual(['agent_alpha', 'agent_beta']);
  });

  it('loads live cache entries; the expired and the missing entry load null', async () => {
    expect(expected.cache.expired_entry).toBeNull();
    for (const [key, value] of Object.entries(expected.cache)) {
      expect(await storage.loadCacheEntry(key)).toEqual(value);
    }
    const live = Object.keys(expected.cache).filter((k) => expected.cache[k] !== null);
    expect(await storage.listCacheKeys()).toEqual(live.sort());
    const record = await storage.loadCacheRecord('chunk:def456');
    expect(record?.expiresAt).toBe('2036-11-21T02:58:59.237582+00:00');
  });

  it('loads system state, and null for a missing key', async () => {
    for (const [key, value] of Object.entries(expected.system_state)) {
      expect(await storage.loadSystemState(key)).toEqual(value);
    }
    expect(await storage.listSystemStateKeys()).toEqual(['last_compression_run', 'runtime_config']);
  });

  it("reports the reference's stats keys with its counts, plus the core keys", async () => {
    const stats = await storage.getStorageStats();
    // page_count depends on the file's history, not on what it holds.
    const counts = Object.fromEntries(Object.entries(expected.stats).filter(([key]) => key !== 'page_count'));
    expect(stats).toMatchObject(counts);
    expect(stats).toMatchObject({
      conversation_count: expected.stats.conversations_count,
      raw_message_count: expected.stats.raw_messages_count,
      memory_count: expected.stats.memories_count,
      reasoning_chain_count: expected.stats.reasoning_chains_count,
      chunk_info_count: expected.stats.chunk_info_count,
      cache_entry_count: expected.stats.cache_entries_count,
      system_state_count: expected.stats.system_state_count,
      agent_count: 2,
    });
    expect(stats.page_count).toBeGreaterThan(0);
    expect(stats.total_pages_bytes).toBe(Number(stats.page_count) * Number(stats.page_size_bytes));
  });

  it('keeps working on the reference file: replace in place, append, delete', async () => {
    const before = await storage.loadMemories('conv_001');
    await storage.storeMemory('conv_001', 'mem_001', { replaced: true });
    const after = await storage.loadMemories('conv_001');
    expect(after.map((m) => m.memory_id)).toEqual(before.map((m) => m.memory_id));
    expect(after[1]).toEqual({ memory_id: 'mem_001', created_at: before[1]?.created_at, replaced: true });

    await storage.storeReasoningChain('agent_beta', { chain_id: 'new' });
    expect((await storage.loadReasoningChains('agent_beta', 1))[0]).toMatchObject({ chain_id: 'new' });

    await storage.deleteConversation('support-ticket.42');
    expect(await storage.listAllConversationIds()).toEqual(['conv_001', 'conv_002']);
    expect(await storage.loadRawMessages('support-ticket.42')).toEqual([]);
    expect(await storage.loadChunkInfo('support-ticket.42')).toBeNull();
  });
});
