/**
 * Throughput of every storage method on one backend holding N conversations (each with
 * raw messages, memories and chunk info), plus agents, cache entries and system state.
 * Calls run one after another, so the numbers are per-call latency expressed as ops/s
 * (durable backends include an fsync per write).
 *
 * Usage: npx tsx bench/storage-bench.ts <file|sqlite> [conversations=10000] [secondsPerMethod=1]
 * (`npm run bench` runs every backend with a smaller store.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageInterface } from '../src/core/index.js';
import { createStorage } from '../src/index.js';

const BACKEND = process.argv[2] ?? 'sqlite';
const CONVERSATIONS = Number(process.argv[3] ?? 10_000);
const SECONDS = Number(process.argv[4] ?? 1);

/** A fresh store of the benchmarked backend inside `dir` (Redis: a unique key prefix). */
function openBackend(dir: string): StorageInterface {
  switch (BACKEND) {
    case 'file':
      return createStorage('file', { baseDir: join(dir, 'storage_data') });
    case 'sqlite':
      return createStorage('sqlite', { dbPath: join(dir, 'bench.db') });
    default:
      throw new Error(`unknown backend ${BACKEND}`);
  }
}
const AGENTS = 100;
const CACHE_KEYS = 1_000;

const conversationId = (i: number): string => `conv-${i}`;
const randomIndex = (n: number): number => Math.floor(Math.random() * n);
const message = (i: number, n: number) => ({
  role: n % 2 ? 'assistant' : 'user',
  content: `message ${n} of ${i}`,
  turn: n,
});

/** Stores the base data set, `batch` calls in flight at a time. */
async function seed(storage: StorageInterface): Promise<void> {
  const batch = 250;
  for (let start = 0; start < CONVERSATIONS; start += batch) {
    const calls: Array<Promise<boolean>> = [];
    for (let i = start; i < Math.min(start + batch, CONVERSATIONS); i += 1) {
      const id = conversationId(i);
      calls.push(storage.storeConversation(id, { title: `Conversation ${i}`, model: 'bench' }));
      calls.push(
        storage.storeRawMessages(
          id,
          Array.from({ length: 10 }, (_, n) => message(i, n)),
        ),
      );
      for (let m = 0; m < 3; m += 1)
        calls.push(storage.storeMemory(id, `mem-${m}`, { summary: `memory ${m} of ${i}` }));
      calls.push(storage.storeChunkInfo(id, { chunks: [{ start: 0, end: 9 }] }));
    }
    await Promise.all(calls);
  }
  const rest: Array<Promise<boolean>> = [];
  for (let a = 0; a < AGENTS; a += 1) {
    for (let c = 0; c < 20; c += 1) rest.push(storage.storeReasoningChain(`agent-${a}`, { step: c }));
  }
  for (let k = 0; k < CACHE_KEYS; k += 1)
    rest.push(storage.storeCacheEntry(`key-${k}`, { k }, k % 2 ? 3600 : null));
  for (let s = 0; s < 100; s += 1) rest.push(storage.storeSystemState(`state-${s}`, { s }));
  await Promise.all(rest);
}

/** Runs `op` sequentially for about SECONDS seconds; returns ops/s. */
async function measure(op: (n: number) => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < deadline) {
    await op(n);
    n += 1;
  }
  return n / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-bench-'));
  const storage = openBackend(dir);
  try {
    await storage.initialize();
    const seedStart = performance.now();
    await seed(storage);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(
      `${BACKEND}: seeded ${CONVERSATIONS} conversations (${CONVERSATIONS * 6} calls) in ${seedSeconds.toFixed(1)} s`,
    );

    const anyConversation = (): string => conversationId(randomIndex(CONVERSATIONS));
    const methods: Array<[string, (n: number) => Promise<unknown>]> = [
      ['storeConversation', () => storage.storeConversation(anyConversation(), { title: 'updated' })],
      ['loadConversation', () => storage.loadConversation(anyConversation())],
      ['listConversations', () => storage.listConversations()],
      ['listAllConversationIds', () => storage.listAllConversationIds()],
      [
        'storeRawMessages (10)',
        (n) => storage.storeRawMessages(anyConversation(), [message(n, 0), ...Array(9).fill({ n })]),
      ],
      ['loadRawMessages', () => storage.loadRawMessages(anyConversation())],
      ['storeMemory (new)', (n) => storage.storeMemory(anyConversation(), `bench-${n}`, { n })],
      ['storeMemory (replace)', (n) => storage.storeMemory(anyConversation(), 'mem-1', { n })],
      ['loadMemories', () => storage.loadMemories(anyConversation())],
      ['storeReasoningChain', (n) => storage.storeReasoningChain(`agent-${randomIndex(AGENTS)}`, { n })],
      ['loadReasoningChains', () => storage.loadReasoningChains(`agent-${randomIndex(AGENTS)}`)],
      ['loadReasoningChains (5)', () => storage.loadReasoningChains(`agent-${randomIndex(AGENTS)}`, 5)],
      ['listAgents', () => storage.listAgents()],
      ['storeChunkInfo', (n) => storage.storeChunkInfo(anyConversation(), { n })],
      ['loadChunkInfo', () => storage.loadChunkInfo(anyConversation())],
      ['storeCacheEntry', (n) => storage.storeCacheEntry(`key-${randomIndex(CACHE_KEYS)}`, { n }, 3600)],
      ['loadCacheEntry', () => storage.loadCacheEntry(`key-${randomIndex(CACHE_KEYS)}`)],
      ['loadCacheRecord', () => storage.loadCacheRecord(`key-${randomIndex(CACHE_KEYS)}`)],
      ['listCacheKeys', () => storage.listCacheKeys()],
      ['purgeExpiredCache', () => storage.purgeExpiredCache()],
      ['deleteCacheEntry', (n) => storage.deleteCacheEntry(`missing-${n}`)],
      ['storeSystemState', (n) => storage.storeSystemState(`state-${randomIndex(100)}`, { n })],
      ['loadSystemState', () => storage.loadSystemState(`state-${randomIndex(100)}`)],
      ['listSystemStateKeys', () => storage.listSystemStateKeys()],
      ['deleteSystemState', (n) => storage.deleteSystemState(`missing-${n}`)],
      ['getStorageStats', () => storage.getStorageStats()],
      ['healthCheck', () => storage.healthCheck()],
      // Last: it removes conversations the other methods pick from.
      ['deleteConversation', () => storage.deleteConversation(anyConversation())],
    ];
    const rows: Array<{ method: string; 'ops/s': number }> = [];
    for (const [method, op] of methods) rows.push({ method, 'ops/s': Math.round(await measure(op)) });
    console.table(rows);
  } finally {
    await storage.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
