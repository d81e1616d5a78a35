/** A source holding ids the library refuses (a Python reference database): conflicts naming them, the rest copied. */
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { MIGRATION_MARKER_KEY } from '../../src/migration/marker.js';
import { copyReferenceDb, useTempDir, withRawDb } from '../sqlite/helpers.js';

const dir = useTempDir('connectome-migrate-refused-');
const AT = '2026-11-24T02:58:59.300000+00:00';

/** The reference database with a memory id, an agent id and a conversation id containing "/". */
async function referenceWithRefusedIds(): Promise<string> {
  const dbPath = await copyReferenceDb(dir());
  await withRawDb(dbPath, async (db) => {
    const memory =
      'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)';
    await db.run(memory, ['conv_001', 'notes/2025', '{"summary": "slash id"}', AT]);
    const chain = 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)';
    await db.run(chain, ['team/alpha', '{"step": 1}', AT]);
    const conversation =
      'INSERT INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)';
    await db.run(conversation, ['a/b', '{"title": "slash"}', AT, AT]);
  });
  return dbPath;
}

it('reports each refused id as a conflict naming it, copies the rest, and does so again when run again', async () => {
  const source = new SQLiteStorage({ dbPath: await referenceWithRefusedIds(), readOnly: true });
  const target = new FileStorage({ baseDir: join(dir(), 'files'), maxReasoningChainsPerAgent: 100 });
  const opened: StorageInterface[] = [source, target];
  try {
    const expected = [
      { kind: 'conversations', id: 'a/b', message: expect.stringContaining('Invalid conversationId "a/b"') },
      { kind: 'memories', id: 'conv_001', message: expect.stringContaining('Invalid memoryId "notes/2025"') },
      {
        kind: 'reasoning_chains',
        id: 'team/alpha',
        message: expect.stringContaining('Invalid agentId "team/alpha"'),
      },
    ];
    for (const attempt of [1, 2]) {
      const summary = await migrateStorage(source, target, { sourceId: 'ref', targetId: 'files' });
      expect({ attempt, ok: summary.ok, resumed: summary.resumed }).toEqual({
        attempt,
        ok: false,
        resumed: attempt === 2,
      });
      expect(summary.conflicts).toEqual(expect.arrayContaining(expected));
      expect(summary.conflictCount).toBe(3);
      const differences = summary.verification?.differences.map((difference) => difference.id).sort();
      expect(differences).toEqual(['a/b', 'conv_001', 'team/alpha']);
    }
    const memories = (await source.loadMemories('conv_001')).filter(
      (memory) => memory.memory_id !== 'notes/2025',
    );
    expect(memories.length).toBeGreaterThan(0);
    expect(await target.loadMemories('conv_001')).toEqual(memories);
    const agents = (await source.listAgents()).filter((agent) => agent !== 'team/alpha');
    expect(await target.listAgents()).toEqual(agents);
    for (const agent of agents) {
      expect(await target.loadReasoningChains(agent)).toEqual(await source.loadReasoningChains(agent));
    }
    const ids = (await source.listAllConversationIds()).filter((id) => id !== 'a/b');
    expect((await target.listAllConversationIds()).sort()).toEqual(ids.sort());
  } finally {
    await Promise.all(opened.map((store) => store.shutdown()));
  }
});

it('does not take a refused system-state key for a migration marker', async () => {
  // The reference's SQLite backend stores any key, the empty one too; the id rule refuses it.
  const dbPath = await copyReferenceDb(dir());
  await withRawDb(dbPath, async (db) => {
    const state =
      'INSERT INTO system_state (state_key, state_data, created_at, updated_at) VALUES (?, ?, ?, ?)';
    await db.run(state, ['', '{"empty": "key"}', AT, AT]);
  });
  const source = new SQLiteStorage({ dbPath, readOnly: true });
  const target = new FileStorage({ baseDir: join(dir(), 'files'), maxReasoningChainsPerAgent: 100 });
  try {
    await source.initialize();
    expect(await source.listSystemStateKeys()).toContain(''); // the source really lists it
    const summary = await migrateStorage(source, target);
    expect(summary.conflicts).toEqual([
      { kind: 'system_state', id: '', message: expect.stringContaining('Invalid stateKey') },
    ]);
    expect(summary.warnings.filter((warning) => warning.includes('marker'))).toEqual([]);
  } finally {
    await Promise.all([source.shutdown(), target.shutdown()]);
  }
  // A source that does hold a marker (it was a migration's target) still says so.
  await withRawDb(dbPath, async (db) => {
    const state =
      'INSERT INTO system_state (state_key, state_data, created_at, updated_at) VALUES (?, ?, ?, ?)';
    await db.run(state, [MIGRATION_MARKER_KEY, '{"source_id": "x", "started_at": "y"}', AT, AT]);
  });
  const marked = new SQLiteStorage({ dbPath, readOnly: true });
  const other = new FileStorage({ baseDir: join(dir(), 'other'), maxReasoningChainsPerAgent: 100 });
  try {
    const summary = await migrateStorage(marked, other);
    expect(summary.warnings.filter((warning) => warning.includes('marker'))).toEqual([
      `the source holds an unfinished migration marker (${MIGRATION_MARKER_KEY}); not copied`,
    ]);
  } finally {
    await Promise.all([marked.shutdown(), other.shutdown()]);
  }
});
