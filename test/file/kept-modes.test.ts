/**
 * A rewritten data file keeps the permission bits (and, for root, the owner) its owner gave it:
 * every write renames a new file over the old one, which until 2026-12-06 came back with the
 * umask's default (644 after a `chmod 600`), while its backups stayed private.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileStorage } from '../../src/backends/file/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

let umask: number;
beforeAll(() => {
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
});

const modeOf = (file: string) => fs.statSync(file).mode & 0o7777;

/** Each kind's file (relative to the base folder) and a write that rewrites it. */
const KINDS: Array<
  [kind: string, file: string, write: (storage: FileStorage, n: number) => Promise<unknown>]
> = [
  ['conversation', 'conversations/c/current.json', (s, n) => s.storeConversation('c', { n })],
  ['raw messages', 'conversations/c/raw_messages.json', (s, n) => s.storeRawMessages('c', [{ n }])],
  ['chunk info', 'conversations/c/chunks.json', (s, n) => s.storeChunkInfo('c', { n })],
  ['memories', 'conversations/c/memories.json', (s, n) => s.storeMemory('c', `m${n}`, { n })],
  [
    'a memory deleted',
    'conversations/c/memories.json',
    async (s, n) => {
      if (n === 1) for (let m = 0; m < 8; m += 1) await s.storeMemory('c', `m${m}`, { m });
      else await s.deleteMemory('c', `m${n}`);
    },
  ],
  ['chains', 'agents/a/reasoning_chains.json', (s, n) => s.storeReasoningChain('a', { n })],
  ['system state', 'system/s.json', (s, n) => s.storeSystemState('s', { n })],
  // `s_x` holds the reference name `s/x` would use: `s/x` gets its hashed name.
  [
    'system state (hashed name)',
    'system/s_x~*.json',
    async (s, n) => {
      if (n === 1) await s.storeSystemState('s_x', {});
      await s.storeSystemState('s/x', { n });
    },
  ],
  ['cache entry', 'cache/k.json', (s, n) => s.storeCacheEntry('k', { n })],
];

/** The one file matching `pattern` (a `*` in its name) under `baseDir`. */
function resolve(baseDir: string, pattern: string): string {
  const dir = path.join(baseDir, path.dirname(pattern));
  const name = new RegExp(`^${path.basename(pattern).replace(/\./g, '\\.').replace('*', '[0-9a-f]+')}$`);
  const found = fs.readdirSync(dir).filter((entry) => name.test(entry));
  expect(found).toHaveLength(1);
  return path.join(dir, found[0] as string);
}

describe.each([
  ['backups on', {}],
  ['createBackups: false', { createBackups: false }],
])('a rewritten data file (%s)', (_label, config) => {
  it.each(KINDS)(
    '%s: keeps the mode its owner set (600, 640), and a new file gets 666 less the umask',
    async (_kind, pattern, write) => {
      const storage = await openStore(config);
      await write(storage, 1);
      await write(storage, 2);
      const file = resolve(storage.baseDir, pattern);
      expect(modeOf(file)).toBe(0o644); // new file: 0o666 & ~0o022
      fs.chmodSync(file, 0o600);
      await write(storage, 3);
      expect(modeOf(file)).toBe(0o600);
      await write(storage, 4);
      expect(modeOf(file)).toBe(0o600);
      fs.chmodSync(file, 0o640);
      await write(storage, 5);
      expect(modeOf(file)).toBe(0o640);
    },
  );
});

describe('a rewritten data file, written by root', () => {
  const root = process.getuid?.() === 0;
  (root ? it : it.skip)('keeps its owner and group, then its mode', async () => {
    const storage = await openStore();
    const file = path.join(storage.baseDir, 'conversations/c/current.json');
    const state = path.join(storage.baseDir, 'system/s.json');
    await storage.storeConversation('c', { n: 1 });
    await storage.storeSystemState('s', { n: 1 });
    for (const one of [file, state]) {
      fs.chownSync(one, 4321, 4322);
      fs.chmodSync(one, 0o600);
    }
    await storage.storeConversation('c', { n: 2 });
    await storage.storeSystemState('s', { n: 2 });
    for (const one of [file, state]) {
      const stat = fs.statSync(one);
      expect([stat.uid, stat.gid, stat.mode & 0o7777]).toEqual([4321, 4322, 0o600]);
    }
  });
});
