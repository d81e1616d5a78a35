/** Two processes appending to one conversation / one agent in a shared folder lose nothing. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import fse from 'fs-extra';
import { RANGE_LOCK_FILE } from '../../src/backends/file/lock-kinds.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterAll(async () => {
  await shutdownAll();
  await removeTempDirs();
});

const CHILD = path.join('test', 'file', 'append-records.child.ts');
const TSX = path.join('node_modules', '.bin', 'tsx');

/** Runs the child script; resolves with its stderr when it exits 0, rejects otherwise. */
function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`child ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

describe('file backend across processes', () => {
  it('keeps all 400 memories two processes store concurrently in one conversation', async () => {
    const baseDir = await makeTempDir();
    await Promise.all([
      runChild([baseDir, 'memories', 'shared', 'a', '200']),
      runChild([baseDir, 'memories', 'shared', 'b', '200']),
    ]);
    const file = path.join(baseDir, 'conversations', 'shared', 'memories.json');
    const parsed = JSON.parse(await fse.readFile(file, 'utf8')) as { memories: unknown[]; _metadata: object };
    expect(parsed.memories).toHaveLength(400);
    expect(parsed._metadata).toMatchObject({ memory_count: 400, conversation_id: 'shared' });
    const storage = await openStore({ baseDir });
    const ids = (await storage.loadMemories('shared')).map((m) => m.memory_id as string);
    expect(new Set(ids).size).toBe(400);
    // Each writer's own records stay in the order it wrote them.
    for (const prefix of ['a', 'b']) {
      const mine = ids.filter((id) => id.startsWith(`${prefix}-`));
      expect(mine).toEqual(Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`));
    }
    // No lock folder or waiting announcement is left (the range lock file stays: it is never removed).
    const left = await fse.readdir(path.join(baseDir, '.connectome-storage', 'locks'));
    expect(left.filter((name) => name !== RANGE_LOCK_FILE)).toEqual([]);
  });

  it('keeps all reasoning chains two processes append concurrently for one agent', async () => {
    const baseDir = await makeTempDir();
    await Promise.all([
      runChild([baseDir, 'chains', 'agent', 'a', '100']),
      runChild([baseDir, 'chains', 'agent', 'b', '100']),
    ]);
    const storage = await openStore({ baseDir });
    const chains = await storage.loadReasoningChains('agent');
    expect(new Set(chains.map((c) => c.chain_id)).size).toBe(200);
  });

  it('finishes cache batches two processes write over the same keys in opposite orders', async () => {
    const baseDir = await makeTempDir();
    // Each batch holds all its keys' locks at once: taken in any other order than one both
    // processes share, the two would wait for each other until the lock wait limit (60 s).
    await Promise.all([
      runChild([baseDir, 'cache', '64', 'a', '20']),
      runChild([baseDir, 'cache', '64', 'b', '20']),
    ]);
    const storage = await openStore({ baseDir });
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    for (const value of await storage.loadCacheEntries(keys)) {
      expect(value).toMatchObject({ writer: expect.stringMatching(/^[ab]$/) as unknown });
    }
  }, 50_000);
  const onLinux = process.platform === 'linux' ? it : it.skip;
  onLinux(
    'keeps every memory when the lock file is removed under a running store',
    async () => {
      // This store opened the byte-range lock file; then it is removed (a user cleaning
      // `.connectome-storage`), and a new process locks the new file. A lock on the removed one
      // would exclude nobody: the store sees the path names another file and locks that one.
      const storage = await openStore({}, { lockKind: 'range' });
      await storage.storeMemory('shared', 'seed', { writer: 'seed' });
      await fse.remove(path.join(storage.baseDir, '.connectome-storage', 'locks', RANGE_LOCK_FILE));
      const file = path.join(storage.baseDir, 'conversations', 'shared', 'memories.json');
      const child = runChild([storage.baseDir, 'memories', 'shared', 'b', '300']);
      // Writes while the child writes (it starts in about a second).
      while (!(await fse.readFile(file, 'utf8')).includes('"b-')) await new Promise((r) => setTimeout(r, 10));
      for (let batch = 0; batch < 40; batch += 1) {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            storage.storeMemory('shared', `a-${batch * 8 + i}`, { writer: 'a' }),
          ),
        );
      }
      await child;
      const ids = (await storage.loadMemories('shared')).map((m) => m.memory_id as string);
      expect(ids.filter((id) => id.startsWith('a-'))).toHaveLength(320);
      expect(ids.filter((id) => id.startsWith('b-'))).toHaveLength(300);
      expect(new Set(ids).size).toBe(ids.length);
    },
    50_000,
  );
});
