/**
 * Several processes on one database file: writes wait for each other (busy timeout,
 * `BEGIN IMMEDIATE`) instead of failing with SQLITE_BUSY, and nothing is lost.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { useTempDir } from './helpers.js';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const WORKER = join(__dirname, 'append-memories.worker.ts');

/** Runs the worker; resolves with its exit code and stderr. */
function runWorker(
  dbPath: string,
  prefix: string,
  count: number,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [WORKER, dbPath, prefix, String(count)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite: several processes on one file', () => {
  const dir = useTempDir();

  it('two processes appending 200 memories each to one conversation end with 400', async () => {
    // Both processes also race to create the schema of a new file.
    const dbPath = join(dir(), 'shared.db');
    const results = await Promise.all([runWorker(dbPath, 'a', 200), runWorker(dbPath, 'b', 200)]);
    for (const result of results) {
      expect(result.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
      expect(result).toEqual({ code: 0, stderr: '' });
    }

    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const memories = await storage.loadMemories('shared');
    await storage.shutdown();
    expect(memories).toHaveLength(400);
    expect(new Set(memories.map((m) => m.memory_id)).size).toBe(400);
    // Each writer's memories keep their own insertion order.
    for (const writer of ['a', 'b']) {
      const mine = memories.filter((m) => m.writer === writer).map((m) => m.i);
      expect(mine).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
  }, 120_000);
});
