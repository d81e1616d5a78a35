/**
 * Segments of the file backend's index are written in the background, without fsync: one that
 * is missing (a crash, or a process that exits before writing it), cut short or damaged so that
 * it still reads as JSON is detected by its checksum and length, and rebuilt, never trusted.
 */
import path from 'node:path';
import fse from 'fs-extra';
import type { FileStorage } from '../../src/backends/file/index.js';
import { type Segment, writeSegment } from '../../src/backends/file/search-segments.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { describeImmutable, makeAppendOnly } from './immutable.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** Waits for the segments `s` still has to write. */
async function flushed(s: FileStorage): Promise<void> {
  await (s as unknown as { textIndex: { flush?: () => Promise<void> } | null }).textIndex?.flush?.();
}

/** The only memories segment of the store. */
async function memoriesSegment(baseDir: string): Promise<string> {
  const dir = path.join(baseDir, '.connectome-storage', 'search', 'memories');
  const names = await fse.readdir(dir);
  expect(names).toHaveLength(1);
  return path.join(dir, names[0] as string);
}

const found = async (s: FileStorage, text: string): Promise<string[]> =>
  (await s.search({ text, kinds: ['memories'], limit: 100 })).map((hit) =>
    hit.kind === 'memories' ? `${hit.conversationId}:${hit.memoryId}` : hit.kind,
  );

describe('file search index segments', () => {
  it('a segment damaged so that it still parses as JSON is rebuilt, not trusted', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'alpha words' });
    await flushed(s);
    const segment = await memoriesSegment(s.baseDir);
    const text = await fse.readFile(segment, 'utf8');
    expect(text).toContain('alpha');
    // Same length, still JSON: a stale block or a bit flip the JSON parser cannot see.
    await fse.writeFile(segment, text.replace('alpha', 'omega'));
    const reopened = await openStore({ baseDir: s.baseDir });
    expect(await found(reopened, 'omega')).toEqual([]);
    expect(await found(reopened, 'alpha')).toEqual(['c1:m1']);
  });

  it('a segment cut short or zero-filled by a crash is rebuilt', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'alpha words' });
    await flushed(s);
    const segment = await memoriesSegment(s.baseDir);
    const text = await fse.readFile(segment, 'utf8');
    for (const damaged of [text.slice(0, text.length - 10), '\0'.repeat(text.length), '']) {
      await fse.writeFile(segment, damaged);
      const reopened = await openStore({ baseDir: s.baseDir });
      expect(await found(reopened, 'alpha')).toEqual(['c1:m1']);
      await flushed(reopened);
      expect(await fse.readFile(segment, 'utf8')).toBe(text); // the repair is stored
    }
  });

  it('a write returns before its segment is on disk; a search of any process finds the record', async () => {
    const s = await openStore();
    const other = await openStore({ baseDir: s.baseDir });
    await s.storeMemory('c1', 'm1', { text: 'first words' });
    await flushed(s);
    expect(await found(other, 'first')).toEqual(['c1:m1']);
    // Then a write whose segment is still queued (as after a crash right after the write).
    await s.storeMemory('c1', 'm2', { text: 'second words' });
    expect(await found(s, 'second')).toEqual(['c1:m2']); // this process: from memory
    expect(await found(other, 'second')).toEqual(['c1:m2']); // another: the old segment is stale
    const reopened = await openStore({ baseDir: s.baseDir });
    expect(await found(reopened, 'words')).toHaveLength(2);
  });

  it('many writes to one data file in a row store its newest segment, also at shutdown', async () => {
    const s = await openStore();
    for (let i = 0; i < 20; i += 1) await s.storeMemory('c1', `m${i}`, { text: `word${i} shared` });
    await s.shutdown();
    const segment = await memoriesSegment(s.baseDir);
    const text = await fse.readFile(segment, 'utf8');
    expect(text).toContain('word19');
    const reopened = await openStore({ baseDir: s.baseDir });
    expect(await found(reopened, 'shared')).toHaveLength(20);
  });
});

describeImmutable('file search segment writes that fail', () => {
  it("a failed rename whose temp file cannot be removed either reports the rename's error", async () => {
    const dir = path.join(await makeTempDir(), 'memories');
    await fse.ensureDir(dir);
    // Append-only: the temp file is created and written, then neither renamed nor removed (EPERM).
    makeAppendOnly(dir);
    const segment: Segment = {
      owner: 'c1',
      kind: 'memories',
      fields: 'null',
      source: '1:2:3:4',
      docs: ['alpha'],
      lengths: [1],
      totalLength: 1,
      ids: ['m1'],
      terms: undefined,
    };
    const file = path.join(dir, 'segment.json');
    const error = await writeSegment(path.dirname(dir), file, segment).then(
      () => null,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    // Before, the cleanup's error was thrown instead (ENOTDIR from rm's scandir), hiding the EPERM.
    expect(error).toMatchObject({ code: 'EPERM', syscall: 'rename', dest: file });
  });
});
