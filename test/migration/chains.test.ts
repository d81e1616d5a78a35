/**
 * Reasoning chains in a migration: the copy resumes by sequence number (long lists a page at a
 * time, trimmed sources whose numbers do not start at 0), and a target whose
 * `maxReasoningChainsPerAgent` would drop chains is refused before anything is written.
 */
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage, MigrationRefusedError } from '../../src/migration/index.js';
import { CHAIN_PAGE_SIZE } from '../../src/migration/copy.js';
import type { HarnessStore } from '../conformance/harness.js';
import { fileHarness } from '../conformance/harness-file.js';
import { sqliteFileHarness } from '../conformance/harness-sqlite.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { failingAfter } from './support.js';

const stores: HarnessStore[] = [];
const opened: StorageInterface[] = [];

async function open(store: HarnessStore, config?: Record<string, unknown>): Promise<StorageInterface> {
  const storage = await store.open(config);
  opened.push(storage);
  return storage;
}

async function fileStore(): Promise<HarnessStore> {
  const store = await fileHarness.createStore();
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.shutdown();
  for (const store of stores.splice(0)) await store.cleanup();
});

async function memorySource(chains: Record<string, number>): Promise<InMemoryStorage> {
  const source = new InMemoryStorage();
  await source.initialize();
  for (const [agentId, count] of Object.entries(chains)) {
    for (let n = 0; n < count; n += 1) await source.storeReasoningChain(agentId, { n, agentId });
  }
  return source;
}

describe("a target whose maxReasoningChainsPerAgent is below an agent's chain count", () => {
  it('is refused (naming the agent, its count and the limit) before anything is written', async () => {
    const source = await memorySource({ small: 3, big: 5 });
    const store = await fileStore();
    const target = await open(store, { maxReasoningChainsPerAgent: 4 });
    for (const dryRun of [false, true]) {
      const error: unknown = await migrateStorage(source, target, { dryRun }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationRefusedError);
      expect(error).toMatchObject({ code: 'MIGRATION_REFUSED', reason: 'chain-limit' });
      const message = (error as Error).message;
      expect(message).toContain('"big" has 5 reasoning chains');
      expect(message).toContain('maxReasoningChainsPerAgent (4)');
      expect(message).toContain('oldest 1');
    }
    expect(await target.listAgents()).toEqual([]);
    expect(await target.listSystemStateKeys()).toEqual([]);
  });

  it('is accepted at the limit, and the copy is complete', async () => {
    const source = await memorySource({ small: 3, big: 5 });
    const target = await open(await fileStore(), { maxReasoningChainsPerAgent: 5 });
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true });
    expect(await target.loadReasoningChains('big')).toEqual(await source.loadReasoningChains('big'));
  });
});

describe('the chain copy resumes by sequence', () => {
  it('after a crash at any page of a list of several pages: no duplicates, no gaps', async () => {
    const total = 2 * CHAIN_PAGE_SIZE + 3;
    const pages = Math.ceil(total / CHAIN_PAGE_SIZE);
    const source = await memorySource({ long: total });
    const expected = await source.loadReasoningChains('long');
    // The marker write comes first, then one batch append per page: write k + 1 is page k.
    for (let crashAt = 1; crashAt <= pages; crashAt += 1) {
      const held = (crashAt - 1) * CHAIN_PAGE_SIZE;
      const target = new InMemoryStorage();
      await target.initialize();
      const crashed = migrateStorage(source, failingAfter(target, crashAt), { sourceId: 'src' });
      await expect(crashed).rejects.toThrow('simulated crash');
      expect(await target.loadReasoningChains('long')).toEqual(expected.slice(0, held));
      const summary = await migrateStorage(source, target, { sourceId: 'src' });
      expect(summary).toMatchObject({ ok: true, resumed: true, conflicts: [] });
      expect(summary.counts.reasoning_chains).toEqual({ copied: total - held, skipped: held });
      expect(await target.loadReasoningChains('long')).toEqual(expected);
    }
  });

  it('after a prefix that ends inside a page: the rest only, in pages', async () => {
    const total = 2 * CHAIN_PAGE_SIZE + 3;
    const source = await memorySource({ long: total });
    const expected = await source.loadReasoningChains('long');
    const held = CHAIN_PAGE_SIZE + 1;
    const target = new InMemoryStorage();
    await target.initialize();
    await target.appendReasoningChains('long', expected.slice(0, held));
    const summary = await migrateStorage(source, target, { sourceId: 'src', merge: true });
    expect(summary).toMatchObject({ ok: true, conflicts: [] });
    expect(summary.counts.reasoning_chains).toEqual({ copied: total - held, skipped: held });
    expect(await target.loadReasoningChains('long')).toEqual(expected);
  });

  it('from a trimmed source (numbers not from 0) into a real store, after a crash at any write', async () => {
    const sourceStore = await sqliteFileHarness.createStore();
    stores.push(sourceStore);
    const source = await open(sourceStore);
    for (let n = 0; n < 9; n += 1) await source.storeReasoningChain('a', { n });
    for (let n = 0; n < 3; n += 1) await source.storeReasoningChain('b', { n });
    await source.trimReasoningChains('a', 5);
    await source.trimReasoningChains('b', 1);
    const expected = { a: await source.loadReasoningChains('a'), b: await source.loadReasoningChains('b') };
    // Writes: 1 the marker, 2 the batch of 'a', 3 the batch of 'b', 4 the marker's removal. A
    // crash at write k + 1, before it landed or (afterWrite) after, up to the marker's removal.
    const crashes: Array<[number, boolean]> = [
      [0, true],
      [1, false],
      [1, true],
      [2, false],
      [2, true],
      [3, false],
    ];
    for (const [crashAt, afterWrite] of crashes) {
      const store = await fileStore();
      const first = await open(store);
      await expect(
        migrateStorage(source, failingAfter(first, crashAt, afterWrite), { sourceId: 'src', concurrency: 1 }),
      ).rejects.toThrow('simulated crash');
      const target = await open(store);
      expect(await migrateStorage(source, target, { sourceId: 'src' })).toMatchObject({ ok: true });
      expect({ a: await target.loadReasoningChains('a'), b: await target.loadReasoningChains('b') }).toEqual(
        expected,
      );
    }
  });
});
