/** The file vector store's append log: torn writes, corruption, compaction, a killed writer. */
import { spawn } from 'node:child_process';
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptDataError, FileVectorStore } from '../../src/index.js';
import { COMPACTION_MIN_DEAD } from '../../src/semantic/vector-stores/file/file-vector-store.js';
import { useTempDir } from '../support/temp-dir.js';
import {
  bruteForce,
  dataFiles,
  randomVector,
  scopedItems,
  seededRandom,
  signatureOf,
} from './vector-fixtures.js';

const sig = signatureOf(3);
const CHILD = join('test', 'semantic', 'vector-writer.child.ts');

describe('file vector store log', () => {
  let store: FileVectorStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const base = useTempDir('connectome-vector-log-');

  async function reopen(): Promise<FileVectorStore> {
    await store?.close();
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    return store;
  }

  /** A store with two committed frames (x, then y); returns the log path and the size after x. */
  async function twoFrames(): Promise<{ log: string; afterX: number }> {
    const opened = await reopen();
    await opened.upsert([{ id: 'x', vector: [1, 0, 0], kind: 'memory' }]);
    const log = join(opened.dir, 'log-1.bin');
    const afterX = (await stat(log)).size;
    await opened.upsert([{ id: 'y', vector: [0, 1, 0], kind: 'memory', agentId: 'agent_1' }]);
    await opened.close();
    return { log, afterX };
  }

  test.each([
    ['cut inside its vector', (size: number) => size - 5],
    ['cut inside its header', (size: number, afterX: number) => afterX + 7],
  ])('a torn last write (%s) is ignored and cut off at open; the next write follows it', async (_, cutAt) => {
    const { log, afterX } = await twoFrames();
    await truncate(log, cutAt((await stat(log)).size, afterX));
    const opened = await reopen();
    expect(await opened.count()).toBe(1);
    expect((await opened.query({ vector: [0, 1, 0], k: 5 })).map((m) => m.id)).toEqual(['x']);
    expect((await stat(log)).size).toBe(afterX);
    await opened.upsert([{ id: 'z', vector: [0, 0, 1], kind: 'memory' }]);
    const again = await reopen();
    expect((await again.query({ vector: [0, 0, 1], k: 5 })).map((m) => m.id)).toEqual(['z', 'x']);
  });

  test('zeros the file system allocated for a write that never landed are ignored', async () => {
    const { log, afterX } = await twoFrames();
    const size = (await stat(log)).size;
    await appendFile(log, Buffer.alloc(4096));
    const opened = await reopen();
    expect(await opened.count()).toBe(2);
    expect((await stat(log)).size).toBe(size);
    expect(afterX).toBeLessThan(size);
  });

  test('a last frame whose checksum does not match is a torn write; the same damage before another frame is corruption', async () => {
    const { log, afterX } = await twoFrames();
    const bytes = await readFile(log);
    const lastFlipped = Buffer.from(bytes);
    lastFlipped[lastFlipped.length - 2] = (lastFlipped[lastFlipped.length - 2] as number) ^ 0xff;
    await writeFile(log, lastFlipped);
    expect(await (await reopen()).count()).toBe(1);
    await store?.close();
    store = undefined;

    await writeFile(log, bytes);
    const firstFlipped = Buffer.from(bytes);
    firstFlipped[afterX - 2] = (firstFlipped[afterX - 2] as number) ^ 0xff;
    await writeFile(log, firstFlipped);
    const error = await reopen().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(/log-1\.bin.*checksum mismatch in the frame at byte 0/);
    // A damaged header in the middle is corruption too.
    const headerFlipped = Buffer.from(bytes);
    headerFlipped[1] = (headerFlipped[1] as number) ^ 0xff;
    await writeFile(log, headerFlipped);
    await expect(reopen()).rejects.toThrow(/bad frame header at byte 0/);
    store = undefined;
  });

  test('compaction rewrites the live records as a new generation once dead ones dominate', async () => {
    const opened = await reopen();
    const dims = 3;
    const items = scopedItems(COMPACTION_MIN_DEAD + 200, dims, 4);
    await opened.upsert(items);
    const replaced = items.map((item, i) => ({ ...item, vector: randomVector(seededRandom(i + 1), dims) }));
    await opened.upsert(replaced.slice(0, COMPACTION_MIN_DEAD - 1));
    expect(await dataFiles(opened.dir)).toContain('log-1.bin');
    // The replaced records are dead, but fewer than the live ones: no compaction yet.
    await opened.upsert(replaced.slice(COMPACTION_MIN_DEAD - 1));
    expect(await dataFiles(opened.dir)).toEqual([
      'items-2.json',
      'log-2.bin',
      'manifest.json',
      'vectors-2.f32',
    ]);
    expect((await stat(join(opened.dir, 'log-2.bin'))).size).toBe(0);
    expect((await stat(join(opened.dir, 'vectors-2.f32'))).size).toBe(items.length * dims * 4);
    await opened.delete(['item_00000']);
    const again = await reopen();
    const remaining = replaced.slice(1);
    expect(await again.count()).toBe(remaining.length);
    const vector = randomVector(seededRandom(77), dims);
    expect(
      (await again.query({ vector, k: 20, filter: { agentId: 'agent_small' } })).map((m) => m.id),
    ).toEqual(bruteForce(remaining, vector, 20, 'cosine', { agentId: 'agent_small' }));
  });

  test('a store of format version 1 (no log) opens, gains a log and keeps its records', async () => {
    const opened = await reopen();
    const dir = opened.dir;
    await opened.close();
    store = undefined;
    // Version 1 wrote a generation as a snapshot only.
    await writeFile(join(dir, 'vectors-1.f32'), Buffer.from(new Float32Array([0, 0, 1]).buffer));
    await writeFile(join(dir, 'items-1.json'), '[["old", "memory", null, "conv_1"]]');
    await truncate(join(dir, 'log-1.bin'), 0);
    await writeFile(join(dir, 'log-1.bin'), '');
    const manifest = { format: 'connectome-vectors', version: 1, signature: sig, count: 1, generation: 1 };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await (await import('node:fs/promises')).unlink(join(dir, 'log-1.bin'));
    const upgraded = await reopen();
    expect((await upgraded.query({ vector: [0, 0, 1], k: 1 })).map((m) => m.id)).toEqual(['old']);
    await upgraded.upsert([{ id: 'new', vector: [1, 0, 0], kind: 'memory' }]);
    const again = await reopen();
    expect(await again.count()).toBe(2);
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toMatchObject({ version: 2 });
  });

  test('a writer killed mid-stream leaves every committed batch and no partial one', async () => {
    const dir = base();
    // Node itself with tsx's loader (not the tsx wrapper), so the kill hits the writing process.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let committed = -1;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (child.killed) return;
        const lines = chunk.toString().trim().split('\n');
        committed = Number(lines[lines.length - 1]);
        // Killed at an arbitrary point after some commits: most often in the middle of a write.
        if (committed >= 40) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`)),
      );
    });
    store = new FileVectorStore({ baseDir: dir });
    await store.ensureIndex(signatureOf(32));
    const count = await store.count();
    expect(count % 10).toBe(0);
    expect(count / 10).toBeGreaterThanOrEqual(committed + 1);
    const ids = (await store.query({ vector: Array.from({ length: 32 }, () => 1), k: 4096 })).map(
      (m) => m.id,
    );
    for (let batch = 0; batch < count / 10; batch += 1) expect(ids).toContain(`b${batch}-9`);
    await store.upsert([{ id: 'after', vector: Array.from({ length: 32 }, () => 1), kind: 'memory' }]);
    expect(await store.count()).toBe(count + 1);
  }, 60_000);
});
