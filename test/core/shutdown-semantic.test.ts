/**
 * `shutdown()` lets the calls already accepted finish, also a semantic-search write, which
 * runs in steps (embed, then write the record through the plain write path, then upsert its
 * vectors) and a semantic `storeConversationBatch`, which runs the single calls item by item.
 * Until 2026-12-03 a shutdown that began while such a call embedded refused its record write
 * with `NotInitializedError` ("called after shutdown()"), so an accepted call failed half way.
 */
import {
  createEmbedder,
  createVectorStore,
  type Embedder,
  FileStorage,
  type StorageInterface,
} from '../../src/index.js';
import { useTempDir } from '../support/temp-dir.js';

/** An embedder that holds every call until `release()` (the hashing embedder's vectors). */
function gatedEmbedder(): { embedder: Embedder; release: () => void; started: () => Promise<void> } {
  const base = createEmbedder('hashing', {});
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let signalStarted: () => void = () => undefined;
  const startedOnce = new Promise<void>((resolve) => (signalStarted = resolve));
  const embedder: Embedder = {
    id: base.id,
    dimensions: base.dimensions,
    async embed(texts, options) {
      signalStarted();
      await gate;
      return base.embed(texts, options);
    },
  };
  return { embedder, release: () => open(), started: () => startedOnce };
}

describe('shutdown() during a semantic write', () => {
  const tempDir = useTempDir('connectome-shutdown-semantic-');

  async function open(embedder: Embedder): Promise<StorageInterface> {
    const storage = new FileStorage({
      baseDir: tempDir(),
      semantic: { embedder, vectorStore: createVectorStore('memory') },
    });
    await storage.initialize();
    return storage;
  }

  async function reopen(): Promise<StorageInterface> {
    const storage = new FileStorage({ baseDir: tempDir() });
    await storage.initialize();
    return storage;
  }

  it('lets a storeMemory accepted before it finish: the memory is stored', async () => {
    const { embedder, release, started } = gatedEmbedder();
    const storage = await open(embedder);
    const write = storage.storeMemory('c1', 'm1', { summary: 'likes tea' });
    await started();
    const closing = storage.shutdown();
    release();
    await expect(write).resolves.toBe(true);
    await expect(closing).resolves.toBe(true);
    const reopened = await reopen();
    expect((await reopened.loadMemories('c1')).map((m) => m.summary)).toEqual(['likes tea']);
    await reopened.shutdown();
  });

  it('lets a chain append and a delete queued behind a write of the same owner finish', async () => {
    const { embedder, release, started } = gatedEmbedder();
    const storage = await open(embedder);
    await storage.storeConversation('c1', { title: 'gone soon' });
    const append = storage.storeReasoningChain('a1', { steps: ['look'] });
    const write = storage.storeRawMessages('c1', ['hello']);
    const remove = storage.deleteConversation('c1'); // waits for the write's lock
    await started();
    const closing = storage.shutdown();
    release();
    await expect(Promise.all([append, write, remove, closing])).resolves.toEqual([true, true, true, true]);
    const reopened = await reopen();
    expect(await reopened.loadReasoningChains('a1')).toHaveLength(1);
    expect(await reopened.listAllConversationIds()).toEqual([]);
    await reopened.shutdown();
  });

  it('lets a semantic storeConversationBatch finish every item', async () => {
    const { embedder, release, started } = gatedEmbedder();
    const storage = await open(embedder);
    const batch = storage.storeConversationBatch([
      { conversationId: 'c1', conversation: { title: 'one' }, rawMessages: ['hi'] },
      { conversationId: 'c2', memories: [{ memoryId: 'm1', data: { summary: 'two' } }] },
    ]);
    await started();
    const closing = storage.shutdown();
    release();
    await expect(batch).resolves.toBe(2);
    await expect(closing).resolves.toBe(true);
    const reopened = await reopen();
    expect(await reopened.listAllConversationIds()).toEqual(['c1', 'c2']);
    expect(await reopened.loadRawMessages('c1')).toEqual(['hi']);
    await reopened.shutdown();
  });

  it('still refuses a call made after shutdown() began', async () => {
    const { embedder, release, started } = gatedEmbedder();
    const storage = await open(embedder);
    const write = storage.storeMemory('c1', 'm1', { summary: 'first' });
    await started();
    const closing = storage.shutdown();
    await expect(storage.storeMemory('c1', 'm2', { summary: 'late' })).rejects.toMatchObject({
      code: 'NOT_INITIALIZED',
    });
    await expect(storage.loadMemories('c1')).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    release();
    await Promise.all([write, closing]);
  });
});
