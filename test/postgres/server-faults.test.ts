/**
 * A connection terminated in the middle of a batch (a DBA's `pg_terminate_backend`, a
 * failover dropping sessions), on a private server: the call rejects typed, naming what it
 * did, the batch is all or nothing, and the same instance goes on working.
 */
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import {
  freshSchema,
  holdLocks,
  ident,
  settle,
  terminateWaitingBackend,
  useFaultSuite,
} from './fault-helpers.js';
import { describeWithPrivatePostgres, type PrivatePostgres } from './private-server.js';

const N = 200;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pad = (i: number) => String(i).padStart(4, '0');

/**
 * Starts `call` once a session holds `lockSql`, terminates the store's backend when it waits on
 * that lock, and returns the call's rejection (checked to be BackendUnavailableError) and the
 * terminated backend's query text.
 */
async function terminatedMidCall(
  server: PrivatePostgres,
  lockSql: string,
  call: () => Promise<unknown>,
  applicationName?: string,
): Promise<{ error: Error; waiting: string }> {
  const locker = await holdLocks(server, lockSql);
  const outcome = settle(call());
  const waiting = await terminateWaitingBackend(server, applicationName);
  const settled = await outcome;
  await locker.release();
  expect(settled.ok).toBe(false);
  const error = (settled as { error: Error }).error;
  expect(error).toBeInstanceOf(BackendUnavailableError);
  return { error, waiting };
}

describeWithPrivatePostgres()('postgres: a connection terminated mid-batch', () => {
  const { stores, server } = useFaultSuite();

  it('storeMemories: rejects typed naming the conversation, writes none, the next call works', async () => {
    const s = await stores.store(server());
    await s.storeMemory('conv', 'm0100', { old: true });
    const { error } = await terminatedMidCall(
      server(),
      `SELECT 1 FROM ${ident(s.schema)}.memories WHERE memory_id = 'm0100' FOR UPDATE`,
      () =>
        s.storeMemories(
          'conv',
          range(N).map((i) => ({ memoryId: `m${pad(i)}`, data: { i } })),
        ),
    );
    expect(error.message).toContain('memories of conversation "conv"');
    expect(await s.loadMemories('conv')).toEqual([
      expect.objectContaining({ memory_id: 'm0100', old: true }),
    ]);
    expect(await s.storeMemories('conv', [{ memoryId: 'm0001', data: { again: 1 } }])).toBe(1);
    expect((await s.loadMemories('conv')).map((m) => m.memory_id)).toEqual(['m0100', 'm0001']);
  });

  it('storeCacheEntries: rejects typed naming the first key, writes none, the next call works', async () => {
    const s = await stores.store(server());
    await s.storeCacheEntry('k0100', { old: true });
    const { error } = await terminatedMidCall(
      server(),
      `SELECT 1 FROM ${ident(s.schema)}.cache_entries WHERE cache_key = 'k0100' FOR UPDATE`,
      () => s.storeCacheEntries(range(N).map((i) => ({ key: `k${pad(i)}`, data: { i } }))),
    );
    expect(error.message).toContain('"k0000"');
    const loaded = await s.loadCacheEntries(range(N).map((i) => `k${pad(i)}`));
    expect(loaded.filter((entry) => entry !== null)).toEqual([{ old: true }]);
    expect(await s.storeCacheEntries([{ key: 'k0001', data: { again: 1 } }])).toBe(1);
    expect(await s.loadCacheEntry('k0001')).toEqual({ again: 1 });
  });

  it('storeConversationBatch: rejects typed, writes no part of any conversation, the next call works', async () => {
    const s = await stores.store(server());
    await s.storeMemory('c050', 'm', { old: true });
    // The conversations' statement runs first; the memories' one waits on this row.
    const items = range(100).map((i) => ({
      conversationId: `c${pad(i).slice(1)}`,
      conversation: { i },
      memories: [{ memoryId: 'm', data: { i } }],
    }));
    const { error } = await terminatedMidCall(
      server(),
      `SELECT 1 FROM ${ident(s.schema)}.memories WHERE conversation_id = 'c050' FOR UPDATE`,
      () => s.storeConversationBatch(items),
    );
    expect(error.message).toContain('store 100 conversation(s) from "c000"');
    expect(await s.listConversations()).toEqual([]);
    expect(await s.loadMemories('c050')).toEqual([expect.objectContaining({ memory_id: 'm', old: true })]);
    expect(await s.storeConversationBatch(items.slice(0, 2))).toBe(2);
    expect(await s.loadConversation('c001')).toEqual({ i: 1 });
  });

  it('appendReasoningChains with a trim: rejects typed naming the agent, appends and trims nothing', async () => {
    const s = await stores.store(server(), { maxReasoningChainsPerAgent: 5 });
    await s.appendReasoningChains(
      'agent',
      range(5).map((i) => ({ old: i })),
    );
    // The append inserts its rows, then its trim waits to delete this one.
    const { error, waiting } = await terminatedMidCall(
      server(),
      `SELECT 1 FROM ${ident(s.schema)}.reasoning_chains ORDER BY id LIMIT 1 FOR UPDATE`,
      () =>
        s.appendReasoningChains(
          'agent',
          range(N).map((i) => ({ i })),
        ),
    );
    expect(waiting).toContain('append_reasoning_chains');
    expect(error.message).toContain('"agent"');
    expect((await s.loadReasoningChains('agent')).map((c) => c.old)).toEqual(range(5));
    expect(await s.appendReasoningChains('agent', [{ next: 1 }])).toBe(1);
    expect((await s.loadReasoningChains('agent')).map((c) => c.old ?? c.next)).toEqual([1, 2, 3, 4, 1]);
  });

  it('storeConversationBatch on a given pg.Pool: a terminated connection rejects typed, no crash', async () => {
    const pool = new pg.Pool({ connectionString: server().url, max: 2, application_name: 'pool-user' });
    pool.on('error', () => undefined);
    try {
      const s = stores.adopt(new PostgresStorage({ pool, schema: freshSchema() }));
      await s.initialize();
      await s.storeMemory('c1', 'm', { old: true });
      const items = ['c0', 'c1'].map((id) => ({
        conversationId: id,
        conversation: { id },
        memories: [{ memoryId: 'm', data: { id } }],
      }));
      await terminatedMidCall(
        server(),
        `SELECT 1 FROM ${ident(s.schema)}.memories WHERE conversation_id = 'c1' FOR UPDATE`,
        () => s.storeConversationBatch(items),
        'pool-user',
      );
      expect(await s.listConversations()).toEqual([]);
      expect(await s.storeConversationBatch(items)).toBe(2);
      await stores.closeAll();
    } finally {
      await pool.end();
    }
  });
});
