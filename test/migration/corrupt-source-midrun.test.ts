/**
 * A file-store source with one per-conversation file (`current.json`, `raw_messages.json`,
 * `memories.json`, `chunks.json`) or an agent's `reasoning_chains.json` that does not parse.
 * Such a file is listed (by its folder), so no cheap check finds it before the copy: the run
 * fails when it reads it, with a `CorruptSourceError` naming its path. What a user needs then:
 * no conversation or agent half-written (each is read whole before any of its parts is
 * written), nothing a merge target held lost, and, once the file is repaired, the same run
 * resumes and ends verified. With `checkSource`, the whole source is read first, and a run
 * refuses before writing anything, naming every such file at once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import type { StorageInterface } from '../../src/core/index.js';
import {
  CorruptSourceError,
  MIGRATION_MARKER_KEY,
  migrateStorage,
  MigrationRefusedError,
} from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-migrate-corrupt-midrun-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const IDS = ['c1', 'c2', 'c3', 'c4'];
const AGENTS = ['a1', 'a2', 'a3'];

/** Writes every part of `id` (`tag` tells two stores' versions apart). */
async function writeConversation(store: StorageInterface, id: string, tag: string): Promise<void> {
  await store.storeConversation(id, { title: `${tag} ${id}` });
  await store.storeRawMessages(id, [{ role: 'user', content: `${tag} hi ${id}` }]);
  await store.storeMemories(id, [
    { memoryId: 'm1', data: { text: `${tag} one ${id}` } },
    { memoryId: 'm2', data: { text: `${tag} two ${id}` } },
  ]);
  await store.storeChunkInfo(id, { chunks: 2, tag });
}

/** A file store of {@link IDS} and {@link AGENTS}, every part of each written. */
async function writeSource(baseDir: string): Promise<void> {
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  for (const id of IDS) await writeConversation(writer, id, 'source');
  for (const agent of AGENTS) await writer.appendReasoningChains(agent, [{ step: 1 }, { step: 2 }]);
  await writer.shutdown();
}

/** A conversation's parts as a migration reads them. */
async function parts(store: StorageInterface, id: string): Promise<unknown[]> {
  return Promise.all([
    store.loadConversation(id),
    store.loadRawMessages(id),
    store.loadMemories(id),
    store.loadChunkInfo(id),
  ]);
}

const NOTHING = [null, [], [], null];

const FILES = [
  'conversations/c2/current.json',
  'conversations/c2/raw_messages.json',
  'conversations/c2/memories.json',
  'conversations/c2/chunks.json',
  'agents/a2/reasoning_chains.json',
];

describe.each([
  ['per conversation', 0],
  ['in batches', 64],
])('a source file that does not parse, copied %s', (_name, conversationBatchSize) => {
  it.each(FILES)('%s: fails naming it, writes no part of its record, resumes once repaired', async (file) => {
    const baseDir = join(dir, `${conversationBatchSize}-${file.replaceAll('/', '_')}`);
    await writeSource(baseDir);
    const original = await readFile(join(baseDir, file));
    await writeFile(join(baseDir, file), '{"truncated": ');
    const source = new FileStorage({ baseDir, readOnly: true });
    const target = new InMemoryStorage();
    // A resumed run must show it reads the same source (a run given no sourceId cannot).
    const options = { conversationBatchSize, concurrency: 2, sourceId: `file:${baseDir}` };
    try {
      const run = migrateStorage(source, target, options);
      await expect(run).rejects.toBeInstanceOf(CorruptSourceError);
      await expect(run).rejects.toMatchObject({ location: join(baseDir, file) });
      // Each conversation the target holds anything of, it holds whole; the corrupt one not at all.
      const whole = await Promise.all(IDS.map((id) => parts(source, id).catch(() => null)));
      for (const [i, id] of IDS.entries()) {
        const held = await parts(target, id);
        if (JSON.stringify(held) !== JSON.stringify(NOTHING)) expect(held).toEqual(whole[i]);
      }
      if (file.startsWith('conversations/')) expect(await parts(target, 'c2')).toEqual(NOTHING);
      expect(await target.loadReasoningChains('a2')).toEqual([]);
      expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();

      // Repaired: the same run resumes and ends verified, without its marker.
      await writeFile(join(baseDir, file), original);
      const summary = await migrateStorage(source, target, options);
      expect(summary).toMatchObject({ ok: true, resumed: true });
      expect(summary.verification?.differenceCount).toBe(0);
      for (const id of IDS) expect(await parts(target, id)).toEqual(await parts(source, id));
      expect(await target.listSystemStateKeys()).toEqual([]);
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });
});

it("keeps a merge target's own version of a conversation whose source file does not parse", async () => {
  const baseDir = join(dir, 'merge');
  await writeSource(baseDir);
  await writeFile(join(baseDir, 'conversations/c2/memories.json'), '{"memories": [');
  const source = new FileStorage({ baseDir, readOnly: true });
  const target = new InMemoryStorage();
  try {
    await target.initialize();
    await writeConversation(target, 'c2', 'target');
    await writeConversation(target, 'mine', 'target');
    const before = await Promise.all(['c2', 'mine'].map((id) => parts(target, id)));
    for (const conversationBatchSize of [0, 64]) {
      const run = migrateStorage(source, target, { merge: true, conversationBatchSize });
      await expect(run).rejects.toBeInstanceOf(CorruptSourceError);
      expect(await Promise.all(['c2', 'mine'].map((id) => parts(target, id)))).toEqual(before);
    }
  } finally {
    await source.shutdown();
    await target.shutdown();
  }
});

describe('checkSource: the whole source read before anything is written', () => {
  const SPOILT = [
    'conversations/c2/current.json',
    'conversations/c3/memories.json',
    'conversations/c3/chunks.json',
    'agents/a2/reasoning_chains.json',
  ];

  it('refuses naming every file that does not parse, listed or not, and writes nothing', async () => {
    const baseDir = join(dir, 'check-source');
    await writeSource(baseDir);
    const writer = new FileStorage({ baseDir });
    await writer.initialize();
    await writer.storeCacheEntry('forever', { v: 1 });
    await writer.shutdown();
    for (const file of [...SPOILT, 'cache/forever.json']) await writeFile(join(baseDir, file), '{"x": ');
    const source = new FileStorage({ baseDir, readOnly: true });
    const target = new InMemoryStorage();
    try {
      // Without it, the up-front check names only the file the listings leave out.
      await expect(migrateStorage(source, target, { verify: false })).rejects.toMatchObject({
        reason: 'corrupt-source',
        message: expect.not.stringContaining('c2'),
      });
      for (const dryRun of [false, true]) {
        const stages = new Set<string>();
        const run = migrateStorage(source, target, {
          checkSource: true,
          dryRun,
          conversationBatchSize: 64,
          onProgress: (event) => stages.add(event.stage),
        });
        await expect(run).rejects.toBeInstanceOf(MigrationRefusedError);
        const error = (await run.catch((e: unknown) => e)) as MigrationRefusedError;
        expect(error.reason).toBe('corrupt-source');
        expect(error.message).toContain('holds 5 file(s) or record(s) that do not parse');
        expect(error.message).toContain('cache/forever.json');
        for (const file of SPOILT) expect(error.message).toContain(join(baseDir, file));
        expect(error.message).toMatch(/Nothing was written$/);
        expect([...stages]).toEqual(['check']);
      }
      expect(await target.listAllConversationIds()).toEqual([]);
      expect(await target.listSystemStateKeys()).toEqual([]);
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });

  it('names a record the copy would meet mid-run, before writing, where the run failed after writing', async () => {
    const baseDir = join(dir, 'check-source-one');
    await writeSource(baseDir);
    await writeFile(join(baseDir, SPOILT[3]!), '{"chains": [');
    const source = new FileStorage({ baseDir, readOnly: true });
    const [unchecked, checked] = [new InMemoryStorage(), new InMemoryStorage()];
    try {
      await expect(migrateStorage(source, unchecked)).rejects.toBeInstanceOf(CorruptSourceError);
      expect(await unchecked.listAllConversationIds()).toEqual(IDS);
      await expect(migrateStorage(source, checked, { checkSource: true })).rejects.toMatchObject({
        reason: 'corrupt-source',
        message: expect.stringContaining(join(baseDir, SPOILT[3]!)),
      });
      expect(await checked.listAllConversationIds()).toEqual([]);
      // Repaired, the checked run copies everything.
      await writeFile(join(baseDir, SPOILT[3]!), JSON.stringify({ chains: [] }));
      const summary = await migrateStorage(source, checked, { checkSource: true });
      expect(summary.ok).toBe(true);
      expect(await checked.listAllConversationIds()).toEqual(IDS);
    } finally {
      await source.shutdown();
      await Promise.all([unchecked.shutdown(), checked.shutdown()]);
    }
  });
});
