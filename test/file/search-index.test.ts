/**
 * The file backend's native search index (`.connectome-storage/search/`): it answers as the
 * default scan does, and never trusts a segment whose data file changed behind its back (a
 * plain write as the Python reference makes, a deleted file or folder, a crash between the
 * record and its segment, a failed segment write, other `searchFields`).
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import { SEARCH_KINDS, type SearchHit, type SearchKind, type SearchQuery } from '../../src/core/index.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import {
  deadPid,
  FIXTURE_STORE,
  makeTempDir,
  markCrashedWriter,
  openStore,
  removeTempDirs,
  shutdownAll,
} from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const ALL_KINDS: SearchKind[] = [...SEARCH_KINDS];

/** A hit as one comparable line: kind, ids, matched words, score. */
function line(hit: SearchHit): string {
  const ids =
    hit.kind === 'raw_messages'
      ? `${hit.conversationId}:${hit.messageIndex}`
      : hit.kind === 'memories'
        ? `${hit.conversationId}:${hit.memoryId}`
        : hit.kind === 'reasoning_chains'
          ? `${hit.agentId}:${hit.chainIndex}`
          : hit.conversationId;
  return `${hit.kind}:${ids} ${hit.matchedTerms} ${hit.score.toFixed(9)}`;
}

async function lines(s: FileStorage, query: SearchQuery): Promise<string[]> {
  return (await s.search({ kinds: ALL_KINDS, limit: 1000, ...query })).map(line);
}

/** Waits for the segments `s` still has to write (a write queues its segment for the background). */
async function flushed(s: FileStorage): Promise<void> {
  await (s as unknown as { textIndex: { flush(): Promise<void> } | null }).textIndex?.flush();
}

/** The JSON body of a segment file's text (after its checksum line). */
const segmentBody = (text: string): { source: string } =>
  JSON.parse(text.slice(text.indexOf('\n') + 1)) as { source: string };

/** Segment files of a store, relative to its search folder. */
async function segmentFiles(baseDir: string): Promise<string[]> {
  const dir = path.join(baseDir, '.connectome-storage', 'search');
  const out: string[] = [];
  for (const kind of await fse.readdir(dir).catch(() => [] as string[]))
    for (const name of await fse.readdir(path.join(dir, kind))) out.push(`${kind}/${name}`);
  return out.sort();
}

/** The only segment of `kind` (the tests below store one conversation or agent per kind). */
async function onlySegment(baseDir: string, kind: SearchKind): Promise<string> {
  const files = (await segmentFiles(baseDir)).filter((f) => f.startsWith(`${kind}/`));
  expect(files).toHaveLength(1);
  return path.join(baseDir, '.connectome-storage', 'search', files[0] as string);
}

/** Rewrites a data file in place, as the Python reference does (`open(path, 'w')` + `json.dump`). */
function rewriteInPlace(file: string, change: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(value);
  const before = fs.statSync(file).ino;
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  expect(fs.statSync(file).ino).toBe(before); // same inode: only size and mtime tell
}

const memoriesFile = (baseDir: string, conversationId: string): string =>
  path.join(baseDir, 'conversations', conversationId, 'memories.json');

describe('file search index', () => {
  it('keeps one segment per data file under .connectome-storage/search/ and counts its entries in stats', async () => {
    const s = await openStore();
    await s.storeRawMessages('c1', [{ content: 'alpha' }, 'bravo']);
    await s.storeMemories('c1', [
      { memoryId: 'm1', data: { text: 'charlie' } },
      { memoryId: 'm2', data: { text: 'delta' } },
    ]);
    await s.storeConversation('c1', { title: 'echo' });
    await s.storeChunkInfo('c1', { chunks: ['foxtrot'] });
    await s.appendReasoningChains('a1', [{ step: 'golf' }, { step: 'hotel' }, { step: 'india' }]);
    await flushed(s);
    const files = await segmentFiles(s.baseDir);
    expect(files.map((f) => f.split('/')[0])).toEqual([
      'chunk_info',
      'conversations',
      'memories',
      'raw_messages',
      'reasoning_chains',
    ]);
    expect((await s.getStorageStats()).search_index_entries).toBe(2 + 2 + 1 + 1 + 3);
    // Trimming and deleting drop entries; deleting a conversation drops its segments.
    await s.trimReasoningChains('a1', 1);
    expect(await lines(s, { text: 'golf hotel india' })).toEqual([
      expect.stringMatching(/^reasoning_chains:a1:0 1 /),
    ]);
    await s.deleteMemory('c1', 'm1');
    await s.deleteConversation('c1');
    await flushed(s);
    expect(await segmentFiles(s.baseDir)).toEqual([expect.stringMatching(/^reasoning_chains\//)]);
    expect((await s.getStorageStats()).search_index_entries).toBe(1);
    await s.deleteReasoningChains('a1');
    await flushed(s);
    expect(await segmentFiles(s.baseDir)).toEqual([]);
  });

  it('answers exactly as the default scan: the same hits, scores and order', async () => {
    const s = await openStore();
    const words = ['apple', 'berry', 'cherry', 'date', 'elder', 'fig', 'grape', 'kiwi'];
    let seed = 3;
    const pick = (): string => words[(seed = (seed * 31 + 7) % 9973) % words.length] as string;
    const text = (n: number): string => Array.from({ length: n }, pick).join(' ');
    for (let c = 0; c < 6; c += 1) {
      await s.storeRawMessages(`c${c}`, [{ content: text(5) }, text(3), { content: text(9) }]);
      await s.storeMemories(
        `c${c}`,
        Array.from({ length: 4 }, (_, m) => ({ memoryId: `m${m}`, data: { summary: text(4 + m) } })),
      );
      if (c % 2 === 0) await s.storeConversation(`c${c}`, { title: text(2) });
      if (c % 3 === 0) await s.storeChunkInfo(`c${c}`, { chunks: [text(6)] });
      await s.appendReasoningChains(`a${c % 3}`, [{ thought: text(7) }, { thought: text(2) }]);
    }
    const scan = await openStore({ baseDir: s.baseDir, searchIndex: false });
    for (const query of [
      { text: 'apple' },
      { text: 'berry fig', match: 'all' as const },
      { text: 'cherry kiwi grape' },
      { text: 'date elder', conversationId: 'c2' },
      { text: 'fig grape', agentId: 'a1' },
      { text: 'apple kiwi', limit: 3 },
    ]) {
      const expected = await lines(scan, query);
      expect(expected.length).toBeGreaterThan(0);
      expect(await lines(s, query)).toEqual(expected);
    }
  });

  it('finds what a plain write behind its back stored, and not what it replaced or removed', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'original words' });
    await s.storeMemory('c2', 'm1', { text: 'second conversation' });
    await s.storeReasoningChain('a1', { step: 'chained thought' });
    expect(await lines(s, { text: 'original' })).toHaveLength(1);
    // The reference rewrites the file in place (same inode).
    rewriteInPlace(memoriesFile(s.baseDir, 'c1'), (value) => {
      (value.memories as Array<Record<string, unknown>>)[0] = {
        memory_id: 'm1',
        text: 'replacement text here',
      };
    });
    expect(await lines(s, { text: 'original' })).toEqual([]);
    expect(await lines(s, { text: 'replacement' })).toEqual([expect.stringMatching(/^memories:c1:m1 1 /)]);
    // A new conversation folder, written by hand.
    await fse.outputFile(
      path.join(s.baseDir, 'conversations', 'c3', 'raw_messages.json'),
      JSON.stringify({ messages: [{ content: 'handwritten message' }] }),
    );
    expect(await lines(s, { text: 'handwritten' })).toEqual([expect.stringMatching(/^raw_messages:c3:0 1 /)]);
    // Files and folders removed by hand: their records are not found.
    await fse.remove(path.join(s.baseDir, 'conversations', 'c2'));
    await fse.remove(path.join(s.baseDir, 'agents', 'a1', 'reasoning_chains.json'));
    expect(await lines(s, { text: 'second chained' })).toEqual([]);
    expect((await s.getStorageStats()).search_index_entries).toBe(2);
  });

  it('repairs a crash between the record and its segment: the segment of the old file is not trusted', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'before crash' });
    await flushed(s);
    const segment = await onlySegment(s.baseDir, 'memories');
    const old = await fse.readFile(segment);
    await s.storeMemory('c1', 'm1', { text: 'after crash' });
    await flushed(s);
    await fse.writeFile(segment, old); // the record landed, its segment did not
    const reopened = await openStore({ baseDir: s.baseDir });
    expect(await lines(reopened, { text: 'before' })).toEqual([]);
    expect(await lines(reopened, { text: 'after' })).toEqual([expect.stringMatching(/^memories:c1:m1 1 /)]);
    // The repair was stored: the segment now names the data file as it is.
    await flushed(reopened);
    expect(segmentBody(await fse.readFile(segment, 'utf8')).source).not.toEqual(
      segmentBody(old.toString()).source,
    );
    // A torn segment (a crash while it was renamed in without fsync) is rebuilt too.
    await fse.writeFile(segment, '{"v":1,"own');
    const again = await openStore({ baseDir: s.baseDir });
    expect(await lines(again, { text: 'after' })).toHaveLength(1);
  });

  it('a write whose segment cannot be written succeeds, and searches still find it', async () => {
    const events: string[] = [];
    const logger = {
      warn: (message: string) => void events.push(message),
      info: () => {},
      error: () => {},
      debug: () => {},
    };
    const s = await openStore({ logger });
    await s.storeMemory('c1', 'm1', { text: 'first' });
    await flushed(s);
    const segments = path.join(s.baseDir, '.connectome-storage', 'search', 'memories');
    await fse.remove(segments);
    await fse.writeFile(segments, 'not a folder'); // every segment write of this kind now fails
    await s.storeMemory('c1', 'm2', { text: 'second' });
    expect(await s.loadMemories('c1')).toHaveLength(2);
    await flushed(s);
    expect(events.some((e) => e.includes('search index segment'))).toBe(true);
    expect(await lines(s, { text: 'first second' })).toHaveLength(2);
    const other = await openStore({ baseDir: s.baseDir, logger });
    expect(await lines(other, { text: 'second' })).toEqual([expect.stringMatching(/^memories:c1:m2 1 /)]);
  });

  it('writes made with searchIndex: false are found by an indexed instance that stayed open', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'indexed words' });
    await s.storeMemory('c1', 'm2', { text: 'doomed words' });
    expect(await lines(s, { text: 'words' })).toHaveLength(2);
    const off = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await off.storeMemory('c1', 'm1', { text: 'unindexed replacement' });
    await off.deleteMemory('c1', 'm2');
    await off.storeReasoningChain('a1', { step: 'unindexed chain' });
    expect(await lines(s, { text: 'words' })).toEqual([]);
    expect(await lines(s, { text: 'unindexed' })).toHaveLength(2);
  });

  it('a read-only open uses current segments, repairs stale ones in memory only, and writes nothing', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'kept words' });
    await s.storeMemory('c2', 'm1', { text: 'changed words' });
    rewriteInPlace(memoriesFile(s.baseDir, 'c2'), (value) => {
      (value.memories as Array<Record<string, unknown>>)[0] = {
        memory_id: 'm1',
        text: 'edited by hand, longer',
      };
    });
    await flushed(s);
    const before = await segmentFiles(s.baseDir);
    const stamps = await Promise.all(
      before.map((f) => fse.readFile(path.join(s.baseDir, '.connectome-storage', 'search', f), 'utf8')),
    );
    const readOnly = await openStore({ baseDir: s.baseDir, readOnly: true });
    expect((await lines(readOnly, { text: 'kept edited changed' })).sort()).toEqual([
      expect.stringMatching(/^memories:c1:m1 1 /),
      expect.stringMatching(/^memories:c2:m1 1 /),
    ]);
    expect(await lines(readOnly, { text: 'changed' })).toEqual([]);
    expect(await segmentFiles(s.baseDir)).toEqual(before);
    const after = await Promise.all(
      before.map((f) => fse.readFile(path.join(s.baseDir, '.connectome-storage', 'search', f), 'utf8')),
    );
    expect(after).toEqual(stamps);
  });

  it('segments built with other searchFields are rebuilt, not trusted', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { title: 'titled', body: 'bodied' });
    const narrowed = await openStore({ baseDir: s.baseDir, searchFields: { memories: ['title'] } });
    // This write stores a segment of the title only.
    await narrowed.storeMemory('c1', 'm2', { title: 'other', body: 'bodied too' });
    expect(await lines(narrowed, { text: 'bodied' })).toEqual([]);
    expect(await lines(narrowed, { text: 'titled other' })).toHaveLength(2);
    const wide = await openStore({ baseDir: s.baseDir });
    expect(await lines(wide, { text: 'bodied' })).toHaveLength(2);
    expect(await lines(s, { text: 'bodied' })).toHaveLength(2);
  });

  it('a data file that does not parse fails the search as its load does, and is skipped by stats', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'fine words' });
    await s.storeMemory('c2', 'm1', { text: 'broken words' });
    await fse.writeFile(memoriesFile(s.baseDir, 'c2'), '{"memories": [');
    await expect(s.search({ text: 'words' })).rejects.toMatchObject({ name: 'CorruptDataError' });
    await expect(s.loadMemories('c2')).rejects.toMatchObject({ name: 'CorruptDataError' });
    expect(await lines(s, { text: 'words', conversationId: 'c1' })).toHaveLength(1);
    const stats = await s.getStorageStats();
    expect(stats.search_index_entries).toBe(1);
    expect(stats.corrupt_files).toEqual(['conversations/c2/memories.json']);
  });

  it('a data file over 1 MiB is indexed by the next search instead of by its write', async () => {
    const s = await openStore();
    await s.storeConversation('big', { title: 'needle', pad: 'x'.repeat(1024 * 1024) });
    expect(await segmentFiles(s.baseDir)).toEqual([]);
    expect(await lines(s, { text: 'needle' })).toEqual([expect.stringMatching(/^conversations:big 1 /)]);
    await flushed(s);
    expect(await segmentFiles(s.baseDir)).toEqual([expect.stringMatching(/^conversations\//)]);
  });

  it('start-up removes the segment temp files a killed writer left', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'words' });
    await s.shutdown();
    const dead = deadPid();
    await markCrashedWriter(s.baseDir, dead);
    const folder = path.join(s.baseDir, '.connectome-storage', 'search', 'memories');
    const leftover = path.join(folder, tempEntryName('x.json').replace(`-${process.pid}-`, `-${dead}-`));
    await fse.writeFile(leftover, '{"v":1,');
    await openStore({ baseDir: s.baseDir });
    expect(await fse.pathExists(leftover)).toBe(false);
  });

  it("indexes the Python reference's tree and answers as the default scan on it", async () => {
    const dir = path.join(await makeTempDir(), 'store');
    await fse.copy(FIXTURE_STORE, dir);
    const s = await openStore({ baseDir: dir });
    const scan = await openStore({ baseDir: dir, searchIndex: false });
    for (const query of [
      { text: 'alpha' },
      { text: 'gamma delta', match: 'all' as const },
      { text: 'memory chunk beta' },
    ]) {
      const expected = await lines(scan, query);
      expect(expected.length).toBeGreaterThan(0);
      expect(await lines(s, query)).toEqual(expected);
    }
    const stats = await s.getStorageStats();
    expect(stats.search_index_entries).toBe(
      stats.raw_message_count +
        stats.memory_count +
        stats.reasoning_chain_count +
        stats.conversation_count +
        stats.chunk_info_count,
    );
    await flushed(s); // the segments the searches rebuilt are written in the background
    expect((await segmentFiles(dir)).length).toBeGreaterThan(0);
    // reindex() rebuilds every segment and drops the ones of files that are gone.
    await fse.remove(path.join(dir, 'conversations', 'conv_002'));
    expect(await s.reindex()).toBe((await s.getStorageStats()).search_index_entries);
    expect((await segmentFiles(dir)).length).toBe(await s.getStorageStats().then(() => countDataFiles(dir)));
  });
});

/** Data files the index covers in a store. */
async function countDataFiles(dir: string): Promise<number> {
  const names = new Set([
    'raw_messages.json',
    'memories.json',
    'current.json',
    'chunks.json',
    'reasoning_chains.json',
  ]);
  let n = 0;
  for (const top of ['conversations', 'agents'])
    for (const id of await fse.readdir(path.join(dir, top)))
      for (const name of await fse.readdir(path.join(dir, top, id))) if (names.has(name)) n += 1;
  return n;
}
