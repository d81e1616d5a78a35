/**
 * The stats walk keeps the listing of a folder whose mtime and ctime are settled (older than
 * the read by a couple of seconds) and reads it again only when the folder changed: an
 * unchanged tree is not listed again, and any entry another writer adds or removes is seen.
 * The search index's segment folders (files only ever replaced whole) keep their files' bytes
 * too; a temp file there, which may still be growing, is measured on every walk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FolderListings } from '../../src/backends/file/folder-listings.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(() => {
  jest.restoreAllMocks();
  return shutdownAll();
});
afterAll(removeTempDirs);

/** Runs `task` with the clock `aheadMs` ahead, so what exists now looks settled. */
async function later<T>(aheadMs: number, task: () => Promise<T>): Promise<T> {
  const realNow = Date.now.bind(Date);
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + aheadMs);
  try {
    return await task();
  } finally {
    clock.mockRestore();
  }
}

/** The folders under `dir` that `readdirSync` lists while `task` runs. */
async function foldersRead(dir: string, task: () => Promise<unknown>): Promise<string[]> {
  const readdir = jest.spyOn(fs, 'readdirSync');
  try {
    await task();
    return readdir.mock.calls.map(([folder]) => String(folder)).filter((folder) => folder.startsWith(dir));
  } finally {
    readdir.mockRestore();
  }
}

describe('file stats: kept folder listings', () => {
  it('does not list a settled folder again while it is unchanged', async () => {
    const s = await openStore({ searchIndex: false });
    for (const id of ['c1', 'c2', 'c3']) await s.storeConversation(id, { title: id });
    const conversations = path.join(s.baseDir, 'conversations');
    const stats = () => later(10_000, () => s.getStorageStats());
    expect(await foldersRead(conversations, stats)).toHaveLength(4);
    expect(await foldersRead(conversations, stats)).toEqual([]);
    expect((await stats()).conversation_count).toBe(3);
  });

  it('sees entries another writer added or removed in a kept folder', async () => {
    const s = await openStore({ searchIndex: false });
    for (const id of ['c1', 'c2', 'c3']) await s.storeConversation(id, { title: id });
    await later(10_000, () => s.getStorageStats());
    // Past the file system's clock tick, so each change gives its folder a new mtime and ctime.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const other = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await other.storeRawMessages('c1', ['a', 'b']);
    await other.storeChunkInfo('c2', { chunks: 1 });
    await other.deleteConversation('c3');
    await other.storeConversation('c4', { title: 'c4' });
    const stats = await later(10_000, () => s.getStorageStats());
    expect([stats.conversation_count, stats.raw_message_count, stats.chunk_info_count]).toEqual([3, 2, 1]);
    // A file removed from a kept folder (the folder stays).
    fs.unlinkSync(path.join(s.baseDir, 'conversations', 'c2', 'chunks.json'));
    expect((await later(10_000, () => s.getStorageStats())).chunk_info_count).toBe(0);
  });

  it('does not keep a folder changed too recently to tell two changes apart', async () => {
    const dir = await makeTempDir();
    fs.writeFileSync(path.join(dir, 'a.json'), '{}');
    const listings = new FolderListings();
    const listTwice = async () => {
      listings.list(dir);
      listings.list(dir);
    };
    // Changed just now: read every time.
    expect(await foldersRead(dir, listTwice)).toHaveLength(2);
    // Seen from a clock well past the change: read once, then kept.
    expect(await foldersRead(dir, () => later(10_000, listTwice))).toHaveLength(1);
    expect(listings.list(dir)?.map((entry) => entry.name)).toEqual(['a.json']);
  });
});

/** Waits for the store's index segments to be on disk (written in the background). */
async function flushed(s: FileStorage): Promise<void> {
  await (s as unknown as { textIndex: { flush(): Promise<void> } | null }).textIndex?.flush();
}

/** Bytes of every file under `dir` (not folders; links by their own size), as the stats count them. */
function bytesUnder(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    bytes += entry.isDirectory() ? bytesUnder(full) : fs.lstatSync(full).size;
  }
  return bytes;
}

/** The files under `dir` that `lstatSync` is asked about while `task` runs. */
async function filesStated(dir: string, task: () => Promise<unknown>): Promise<string[]> {
  const lstat = jest.spyOn(fs, 'lstatSync');
  try {
    await task();
    return lstat.mock.calls.map(([file]) => String(file)).filter((file) => file.startsWith(dir));
  } finally {
    lstat.mockRestore();
  }
}

describe('file stats: kept bytes of the search segments', () => {
  it('does not stat unchanged segments again, and still counts every byte', async () => {
    const writer = await openStore();
    for (const id of ['c1', 'c2', 'c3']) await writer.storeConversation(id, { title: id });
    await flushed(writer);
    const s = await openStore({ baseDir: writer.baseDir });
    const segments = path.join(s.baseDir, '.connectome-storage', 'search', 'conversations');
    expect(fs.readdirSync(segments)).toHaveLength(3);
    const stats = () => later(10_000, () => s.getStorageStats());
    expect(await filesStated(segments, stats)).toHaveLength(3);
    expect(await filesStated(segments, stats)).toEqual([]);
    expect((await stats()).total_bytes).toBe(bytesUnder(s.baseDir));
  });

  it('sees a temp file growing in place and segments another writer replaced or removed', async () => {
    const writer = await openStore();
    for (const id of ['c1', 'c2']) await writer.storeConversation(id, { title: id });
    await flushed(writer);
    const s = await openStore({ baseDir: writer.baseDir });
    const segments = path.join(s.baseDir, '.connectome-storage', 'search', 'conversations');
    const temp = path.join(segments, tempEntryName('x.json'));
    fs.writeFileSync(temp, 'ab');
    const total = async () => (await later(10_000, () => s.getStorageStats())).total_bytes;
    expect(await total()).toBe(bytesUnder(s.baseDir));
    // Written in place: the folder does not change, the file does.
    fs.appendFileSync(temp, 'x'.repeat(500));
    expect(await total()).toBe(bytesUnder(s.baseDir));
    fs.unlinkSync(temp);
    // Past the file system's clock tick, so each change gives the folder a new mtime and ctime.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writer.storeConversation('c1', { title: 'a much longer title than before, so the segment grows' });
    await writer.deleteConversation('c2');
    await flushed(writer);
    expect(fs.readdirSync(segments)).toHaveLength(1);
    expect(await total()).toBe(bytesUnder(s.baseDir));
  });
});
