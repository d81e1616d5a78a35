/**
 * Child process of the cross-process test: appends `count` memories to one conversation
 * of a database file, concurrently from one instance, then exits 0 (1 on any failure).
 * Usage: tsx append-memories.worker.ts <dbPath> <prefix> <count>
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';

async function main(): Promise<void> {
  const [dbPath, prefix, count] = process.argv.slice(2);
  if (dbPath === undefined || prefix === undefined || count === undefined) {
    throw new Error('usage: append-memories.worker.ts <dbPath> <prefix> <count>');
  }
  const storage = new SQLiteStorage({ dbPath });
  await storage.initialize();
  const writes = Array.from({ length: Number(count) }, (_, i) =>
    storage.storeMemory('shared', `${prefix}-${i}`, { writer: prefix, i }),
  );
  await Promise.all(writes);
  await storage.shutdown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
