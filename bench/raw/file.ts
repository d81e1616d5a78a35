/**
 * Raw file subject: one JSON file per record, each written durably the minimal way (temp
 * file, fsync, rename over the target, fsync the folder) and read with one `readFile`.
 * Memories and chains get a file each, so no write rewrites another record; no index files.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchStore, JsonObject, JsonValue, OpenedStore, StoreLocation } from '../types.js';

const KINDS = ['conversations', 'raw', 'chunks', 'memories', 'chains', 'cache'] as const;
let tempCounter = 0;

/** Writes `text` to a new temp file in `folder` and fsyncs it; returns the temp file's path. */
async function writeSyncedTemp(folder: string, name: string, text: string): Promise<string> {
  const temp = join(folder, `.${name}.${process.pid}.${tempCounter++}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function syncFolder(folder: string): Promise<void> {
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function writeDurably(folder: string, name: string, text: string): Promise<void> {
  await rename(await writeSyncedTemp(folder, name, text), join(folder, name));
  await syncFolder(folder);
}

/**
 * A batch in one folder: each file written and fsynced to its temp name (all at once), renamed,
 * then one fsync of the folder for all of them.
 */
async function writeManyDurably(folder: string, files: Array<[name: string, text: string]>): Promise<void> {
  const temps = await Promise.all(files.map(([name, text]) => writeSyncedTemp(folder, name, text)));
  await Promise.all(temps.map((temp, i) => rename(temp, join(folder, files[i]![0]))));
  await syncFolder(folder);
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function names(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const stem = (name: string): string => name.replace(/\.json$/, '');

/** Opens a raw file store in its own folder under `location.dir`. */
export async function openRawFile(location: StoreLocation): Promise<OpenedStore> {
  const root = join(location.dir, `${location.name}-raw`);
  for (const kind of KINDS) await mkdir(join(root, kind), { recursive: true });
  const made = new Set<string>();
  const folder = async (...parts: string[]): Promise<string> => {
    const path = join(root, ...parts);
    if (!made.has(path)) {
      await mkdir(path, { recursive: true });
      made.add(path);
    }
    return path;
  };
  const chainCounts = new Map<string, number>();
  const loadCache = async (key: string): Promise<JsonObject | null> => {
    const record = await readJson<{ expiresAt: number; data: JsonObject }>(
      join(root, 'cache', `${key}.json`),
    );
    return record && record.expiresAt > Date.now() ? record.data : null;
  };
  const put = async (kind: string, id: string, value: JsonValue): Promise<void> =>
    writeDurably(await folder(kind), `${id}.json`, JSON.stringify(value));

  const store: BenchStore = {
    storeConversation: (id, data) => put('conversations', id, data),
    loadConversation: (id) => readJson(join(root, 'conversations', `${id}.json`)),
    storeRawMessages: (id, messages) => put('raw', id, messages),
    loadRawMessages: async (id) => (await readJson<JsonValue[]>(join(root, 'raw', `${id}.json`))) ?? [],
    storeMemory: async (id, memoryId, data) =>
      writeDurably(
        await folder('memories', id),
        `${memoryId}.json`,
        JSON.stringify({ memory_id: memoryId, ...data }),
      ),
    loadMemories: async (id) => {
      const dir = join(root, 'memories', id);
      return Promise.all(
        (await names(dir)).map(async (name) => (await readJson<JsonObject>(join(dir, name)))!),
      );
    },
    storeChunkInfo: (id, data) => put('chunks', id, data),
    loadChunkInfo: (id) => readJson<JsonObject>(join(root, 'chunks', `${id}.json`)),
    storeReasoningChain: async (agentId, data) => {
      const dir = await folder('chains', agentId);
      const seq = chainCounts.get(agentId) ?? (await names(dir)).length;
      chainCounts.set(agentId, seq + 1);
      await writeDurably(dir, `${String(seq).padStart(12, '0')}.json`, JSON.stringify(data));
    },
    loadReasoningChains: async (agentId, limit) => {
      const dir = join(root, 'chains', agentId);
      const last = (await names(dir)).sort().slice(-limit);
      return Promise.all(last.map((name) => readJson(join(dir, name))));
    },
    storeCacheEntry: (key, data, ttl) => put('cache', key, { expiresAt: Date.now() + ttl * 1000, data }),
    loadCacheEntry: (key) => loadCache(key),
    storeMemories: async (id, memories) =>
      writeManyDurably(
        await folder('memories', id),
        memories.map(({ memoryId, data }) => [
          `${memoryId}.json`,
          JSON.stringify({ memory_id: memoryId, ...data }),
        ]),
      ),
    appendReasoningChains: async (agentId, chains) => {
      const dir = await folder('chains', agentId);
      const seq = chainCounts.get(agentId) ?? (await names(dir)).length;
      chainCounts.set(agentId, seq + chains.length);
      const files = chains.map((data, i): [string, string] => [
        `${String(seq + i).padStart(12, '0')}.json`,
        JSON.stringify(data),
      ]);
      await writeManyDurably(dir, files);
    },
    storeCacheEntries: async (entries) =>
      writeManyDurably(
        await folder('cache'),
        entries.map(({ key, data, ttlSeconds }) => [
          `${key}.json`,
          JSON.stringify({ expiresAt: Date.now() + ttlSeconds * 1000, data }),
        ]),
      ),
    loadCacheEntries: (keys) => Promise.all(keys.map((key) => loadCache(key))),
    // Every file unlinked at once, then one fsync of the folder for all of them.
    deleteCacheEntries: async (keys) => {
      const dir = await folder('cache');
      await Promise.all(keys.map((key) => rm(join(dir, `${key}.json`), { force: true })));
      await syncFolder(dir);
    },
    // A memory is a file: every one unlinked at once, then one fsync of the folder.
    deleteMemories: async (id, memoryIds) => {
      const dir = await folder('memories', id);
      await Promise.all(memoryIds.map((memoryId) => rm(join(dir, `${memoryId}.json`), { force: true })));
      await syncFolder(dir);
    },
    listConversations: async () => (await names(join(root, 'conversations'))).map(stem).sort(),
    listAllConversationIds: async () => {
      const lists = await Promise.all([
        names(join(root, 'conversations')),
        names(join(root, 'raw')),
        names(join(root, 'chunks')),
        names(join(root, 'memories')),
      ]);
      return [...new Set(lists.flat().map(stem))].sort();
    },
    getStorageStats: async () => {
      const counts: Record<string, number> = {};
      for (const kind of KINDS) counts[kind] = (await names(join(root, kind))).length;
      return counts;
    },
    close: async () => {},
  };
  return { store, drop: () => rm(root, { recursive: true, force: true }) };
}
