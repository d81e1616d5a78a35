/**
 * Child process of the cross-process test: appends records to one shared store.
 * Usage: tsx append-records.child.ts <baseDir> <memories|chains> <target id> <prefix> <count>
 * Writes run 8 at a time, so in-process queuing and cross-process locking are both exercised.
 * Or: tsx append-records.child.ts <baseDir> cache <key count> <a|b> <rounds>: each round stores
 * the keys `k0`, `k1`, ... in one `storeCacheEntries` call (writer `b` in reverse order) beside
 * single writes of the first and last key.
 */
import { FileStorage } from '../../src/backends/file/index.js';

async function main(): Promise<void> {
  const [baseDir, kind, target, prefix, countText] = process.argv.slice(2);
  if (baseDir && kind === 'cache' && prefix)
    return writeCache(baseDir, Number(target), prefix, Number(countText));
  if (!baseDir || !target || !prefix || (kind !== 'memories' && kind !== 'chains')) {
    throw new Error(
      'usage: append-records.child.ts <baseDir> <memories|chains> <target id> <prefix> <count>',
    );
  }
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  const count = Number(countText);
  for (let start = 0; start < count; start += 8) {
    const batch = Array.from({ length: Math.min(8, count - start) }, (_, i) => `${prefix}-${start + i}`);
    await Promise.all(
      batch.map((id) =>
        kind === 'memories'
          ? storage.storeMemory(target, id, { writer: prefix })
          : storage.storeReasoningChain(target, { chain_id: id }),
      ),
    );
  }
  await storage.shutdown();
}

async function writeCache(baseDir: string, keyCount: number, writer: string, rounds: number): Promise<void> {
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  if (writer === 'b') keys.reverse();
  for (let round = 0; round < rounds; round += 1) {
    await Promise.all([
      storage.storeCacheEntries(keys.map((key) => ({ key, data: { writer, round } }))),
      storage.storeCacheEntry(keys[0] as string, { writer, round }),
      storage.storeCacheEntry(keys[keyCount - 1] as string, { writer, round }),
    ]);
  }
  await storage.shutdown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
