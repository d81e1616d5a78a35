/**
 * Child process of `special-files.test.ts`: opens the store in `baseDir`, where the test put
 * FIFOs in place of data files, and runs every read that meets one, printing one JSON line per
 * read (`{ op, value }` or `{ op, error, message }`). A read that blocks in `open` freezes this
 * process (or never settles), so the test sees lines missing instead of a hung test run.
 * Usage: tsx special-files.child.ts <baseDir>
 */
import { FileStorage } from '../../src/backends/file/index.js';

async function main(): Promise<void> {
  const [baseDir] = process.argv.slice(2);
  if (!baseDir) throw new Error('usage: special-files.child.ts <baseDir>');
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  const reads: Array<[string, () => Promise<unknown>]> = [
    ['loadCacheEntry', () => storage.loadCacheEntry('fifo')],
    ['loadCacheEntries', () => storage.loadCacheEntries(['fifo'])],
    ['loadCacheEntries:others', () => storage.loadCacheEntries(['kept'])],
    ['listCacheKeys', () => storage.listCacheKeys()],
    ['purgeExpiredCache', () => storage.purgeExpiredCache()],
    ['loadSystemState', () => storage.loadSystemState('fifo')],
    ['listSystemStateKeys', () => storage.listSystemStateKeys()],
    ['loadMemories', () => storage.loadMemories('conv')],
    ['loadConversationBatch', () => storage.loadConversationBatch(['conv'])],
    ['getStorageStats', async () => (await storage.getStorageStats()).corrupt_files],
  ];
  for (const [op, read] of reads) {
    const line = await read().then(
      (value) => ({ op, value: value ?? null }),
      (error: unknown) => ({ op, error: (error as Error).name, message: (error as Error).message }),
    );
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  await storage.shutdown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
