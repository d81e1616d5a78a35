/**
 * A source holding records nested deeper than every write accepts (MAX_JSON_DEPTH, 512), as
 * another program may leave in a file store: the library reads them but cannot write them.
 * Until 2026-12-04 the first such record failed the whole migration (and every later run) with
 * the target's ValidationError; now each is a conflict naming it, and the rest is copied.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { MAX_JSON_DEPTH } from '../../src/core/index.js';
import { migrateStorage, type MigrationSummary } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-migrate-too-deep-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A string value nested in `levels` arrays. */
const nested = (levels: number, word: string): string =>
  `${'['.repeat(levels)}"${word}"${']'.repeat(levels)}`;

/** Replaces `"placeholder"` in a store file with a value nested `levels` arrays deep. */
async function plant(baseDir: string, file: string, levels: number): Promise<void> {
  const path = join(baseDir, file);
  await writeFile(path, (await readFile(path, 'utf8')).replace('"placeholder"', nested(levels, 'deep')));
}

/**
 * A file store where `deep` holds, in every kind, records nested one level past the limit
 * (the record itself is level 1), and `edge` records exactly at the limit.
 */
async function writeSource(baseDir: string): Promise<void> {
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  for (const id of ['deep', 'edge', 'flat']) {
    await writer.storeConversation(id, { title: id, body: 'placeholder' });
    await writer.storeRawMessages(id, [{ role: 'user', content: 'placeholder' }]);
    await writer.storeMemories(id, [
      { memoryId: 'm1', data: { note: 'placeholder' } },
      { memoryId: 'm2', data: { note: 'plain' } },
    ]);
    await writer.storeChunkInfo(id, { chunks: 'placeholder' });
    await writer.appendReasoningChains(id, [{ step: 1 }, { step: 'placeholder' }, { step: 3 }]);
    await writer.storeCacheEntry(id, { v: 'placeholder' });
    await writer.storeSystemState(id, { v: 'placeholder' });
  }
  await writer.shutdown();
  for (const [id, levels] of [
    ['deep', MAX_JSON_DEPTH],
    ['edge', MAX_JSON_DEPTH - 1],
  ] as const) {
    for (const file of ['current.json', 'memories.json', 'chunks.json']) {
      await plant(baseDir, `conversations/${id}/${file}`, levels);
    }
    // The message is level 2 of the list a write takes.
    await plant(baseDir, `conversations/${id}/raw_messages.json`, levels - 1);
    await plant(baseDir, `agents/${id}/reasoning_chains.json`, levels);
    await plant(baseDir, `cache/${id}.json`, levels);
    await plant(baseDir, `system/${id}.json`, levels);
  }
}

/** The conflicts of a run, as `kind id` and the start of the message. */
const conflictsOf = (summary: MigrationSummary) =>
  summary.conflicts.map(({ kind, id, message }) => `${kind} ${id}: ${message.split(' is nested')[0]}`).sort();

const EXPECTED = [
  "cache_entries deep: the source's entry",
  "chunk_info deep: the source's chunk info",
  "conversations deep: the source's conversation",
  'memories deep: memory "m1"',
  "raw_messages deep: the source's raw message list (1 message(s))",
  "reasoning_chains deep: the source's chain with sequence 1",
  "system_state deep: the source's state",
];

describe.each([
  ['per conversation', 0],
  ['in batches', 64],
])('a source record nested past the write limit, copied %s', (_name, conversationBatchSize) => {
  it('is a conflict naming it; everything else is copied, also on a resumed run', async () => {
    const baseDir = join(dir, `source-${conversationBatchSize}`);
    await writeSource(baseDir);
    const source = new FileStorage({ baseDir, readOnly: true });
    const target = new InMemoryStorage();
    const options = { conversationBatchSize, sourceId: `file:${baseDir}` };
    try {
      const dry = await migrateStorage(source, target, { ...options, dryRun: true });
      expect(conflictsOf(dry)).toEqual(EXPECTED);
      const summary = await migrateStorage(source, target, options);
      expect(summary.ok).toBe(false);
      expect(conflictsOf(summary)).toEqual(EXPECTED);
      for (const conflict of summary.conflicts) expect(conflict.message).toMatch(/not copied$/);
      // Verification names what is missing: the same records, nothing else.
      expect(new Set(summary.verification?.differences.map((d) => `${d.kind} ${d.id}`))).toEqual(
        new Set(EXPECTED.map((line) => line.split(':')[0])),
      );
      for (const id of ['edge', 'flat']) {
        expect(await target.loadConversation(id)).toEqual(await source.loadConversation(id));
        expect(await target.loadRawMessages(id)).toEqual(await source.loadRawMessages(id));
        expect(await target.loadMemories(id)).toEqual(await source.loadMemories(id));
        expect(await target.loadChunkInfo(id)).toEqual(await source.loadChunkInfo(id));
        expect(await target.loadReasoningChains(id)).toEqual(await source.loadReasoningChains(id));
        expect(await target.loadCacheRecord(id)).toEqual(await source.loadCacheRecord(id));
        expect(await target.loadSystemState(id)).toEqual(await source.loadSystemState(id));
      }
      expect(await target.loadConversation('deep')).toBeNull();
      expect(await target.loadRawMessages('deep')).toEqual([]);
      expect((await target.loadMemories('deep')).map((m) => m.memory_id)).toEqual(['m2']);
      expect(await target.loadChunkInfo('deep')).toBeNull();
      // Chains keep their order: the first is copied, the deep one and those after it are not.
      expect(await target.loadReasoningChains('deep')).toEqual(
        (await source.loadReasoningChains('deep')).slice(0, 1),
      );
      expect(await target.loadCacheRecord('deep')).toBeNull();
      expect(await target.loadSystemState('deep')).toBeNull();

      // The same command again resumes and reports the same, writing nothing twice.
      const again = await migrateStorage(source, target, options);
      expect(again.resumed).toBe(true);
      expect(conflictsOf(again)).toEqual(EXPECTED);
      expect(await target.loadReasoningChains('deep')).toHaveLength(1);
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });
});

it('reports a too-deep part of a conversation over one batch write once, copied in batches', async () => {
  // 2,001 raw messages: the conversation goes the per-conversation way, which screened its
  // parts again and reported each conflict (and duplicate-memory warning) twice.
  const baseDir = join(dir, 'large');
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  const messages = Array.from({ length: 2001 }, (_, n) => ({ n }));
  await writer.storeConversation('big', { body: 'placeholder' });
  await writer.storeRawMessages('big', messages);
  await writer.shutdown();
  await plant(baseDir, 'conversations/big/current.json', MAX_JSON_DEPTH);
  const source = new FileStorage({ baseDir, readOnly: true });
  const target = new InMemoryStorage();
  try {
    const summary = await migrateStorage(source, target, { conversationBatchSize: 64 });
    expect(conflictsOf(summary)).toEqual(["conversations big: the source's conversation"]);
    expect(await target.loadRawMessages('big')).toEqual(messages);
  } finally {
    await source.shutdown();
    await target.shutdown();
  }
});
