/**
 * A migration whose PostgreSQL target (a private server) dies mid-run, several writes in
 * flight (`concurrency` 4, or 16 over a pool of 10): it fails typed within one client timeout
 * (the calls in flight time out together, no new one starts), never one timeout per call
 * after another, and a run started again once the server is back resumes, completes and
 * verifies.
 */
import { BackendUnavailableError, type StorageInterface } from '../../src/core/index.js';
import { migrateStorage, type MigrationProgressEvent } from '../../src/migration/index.js';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { freshSchema, settle, useFaultSuite, withinMs } from './fault-helpers.js';
import { BlackholeProxy } from './blackhole-proxy.js';
import { describeWithPrivatePostgres } from './private-server.js';

const CONVERSATIONS = 300;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SOURCE_ID = 'in-memory://migration-target-dies';

/** A source with conversations (memories, raw messages), agents, cache entries and state. */
async function source(): Promise<StorageInterface> {
  const s = new InMemoryStorage();
  await s.initialize();
  for (const i of range(CONVERSATIONS)) {
    const id = `c${String(i).padStart(4, '0')}`;
    await s.storeConversation(id, { i });
    await s.storeMemories(id, [{ memoryId: 'm', data: { i } }]);
    await s.storeRawMessages(id, [{ role: 'user', content: `hello ${i}` }]);
  }
  for (const i of range(20)) await s.appendReasoningChains(`agent${i}`, [{ step: i }]);
  await s.storeCacheEntries(range(100).map((i) => ({ key: `k${i}`, data: { i } })));
  await s.storeSystemState('state', { ok: true });
  return s;
}

/** Progress options calling `onHalf` once half the conversations are copied. */
function atHalf(onHalf: () => void): { onProgress(event: MigrationProgressEvent): void } {
  let fired = false;
  return {
    onProgress(event) {
      if (fired || event.type !== 'item' || event.phase !== 'conversations') return;
      if (event.done < event.total / 2) return;
      fired = true;
      onHalf();
    },
  };
}

describeWithPrivatePostgres()('postgres: a migration target dies mid-run', () => {
  const { stores, server } = useFaultSuite({ restart: true });

  /** Migrates `from` into `schema` on a fresh target instance (reaching it at `url`). */
  function run(from: StorageInterface, schema: string, url: string, extra: object = {}) {
    const target = stores.adopt(
      new PostgresStorage({
        url,
        schema,
        connectionTimeoutMillis: 2000,
        statementTimeoutMillis: 2000,
      }),
    );
    return {
      target,
      outcome: migrateStorage(from, target, { sourceId: SOURCE_ID, concurrency: 4, ...extra }),
    };
  }

  it('SIGKILLed: fails typed within the timeouts, a resumed run completes and verifies', async () => {
    const from = await source();
    const schema = freshSchema();
    let killedAt = 0;
    const killing: Promise<void>[] = [];
    const { outcome } = run(
      from,
      schema,
      server().url,
      atHalf(() => {
        killedAt = Date.now();
        killing.push(server().kill9());
      }),
    );
    const failed = await withinMs(settle(outcome), 30_000, 'the migration');
    await Promise.all(killing);
    const failedAfterMs = Date.now() - killedAt;
    expect(failed.ok).toBe(false);
    expect((failed as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    // One connect timeout (2 s) or one client timeout (2 + 5 s) at most, not one per call.
    expect(failedAfterMs).toBeLessThan(7_000 + 3_000);
    await server().start();
    const again = run(from, schema, server().url);
    const summary = await withinMs(again.outcome, 60_000, 'the resumed migration');
    expect(summary).toMatchObject({ ok: true, resumed: true, verification: { ok: true } });
    expect(await again.target.listConversations()).toHaveLength(CONVERSATIONS);
  });

  it.each([
    { concurrency: 4 },
    // More calls at once than the pool's 10 connections, each conversation its own calls.
    { concurrency: 16, conversationBatchSize: 0 },
  ])(
    'its network path dies silently (%j): fails typed within the timeouts, a resumed run completes',
    async (shape) => {
      const from = await source();
      const schema = freshSchema();
      const proxy = await BlackholeProxy.start(server().port);
      try {
        const url = `postgres://postgres@127.0.0.1:${proxy.port}/postgres`;
        let cutAt = 0;
        const { outcome } = run(from, schema, url, {
          ...shape,
          ...atHalf(() => {
            cutAt = Date.now();
            proxy.blackhole();
          }),
        });
        const failed = await withinMs(settle(outcome), 60_000, 'the migration');
        const failedAfterMs = Date.now() - cutAt;
        expect(failed.ok).toBe(false);
        expect((failed as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
        // The calls in flight time out together (2 + 5 s), then at most one connect timeout.
        expect(failedAfterMs).toBeLessThan(7_000 + 2_000 + 3_000);
        proxy.heal();
        const again = run(from, schema, url, shape);
        const summary = await withinMs(again.outcome, 60_000, 'the resumed migration');
        expect(summary).toMatchObject({ ok: true, resumed: true, verification: { ok: true } });
      } finally {
        await proxy.close();
      }
    },
  );
});
