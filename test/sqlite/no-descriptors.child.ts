/**
 * Child process of `no-descriptors.test.ts`, run under a low `ulimit -n`: opens a store, takes
 * every free file descriptor, then writes to that store (a rollback journal to open) and opens a
 * second one. Prints each call's error as JSON `{ write, open }` (`{ name, message }` or null).
 * Usage: tsx no-descriptors.child.ts <dir>
 */
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import path from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';

const describe = (error: unknown) =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'none', message: String(error) };

async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: no-descriptors.child.ts <dir>');
  const first = new SQLiteStorage({ dbPath: path.join(dir, 'a.db'), enableWalMode: false });
  await first.initialize();
  await first.storeConversation('c', { title: 'before' });
  const held: number[] = [];
  try {
    for (;;) held.push(openSync(devNull, 'r'));
  } catch {
    // EMFILE: every descriptor is taken.
  }
  const write = await first.storeConversation('c', { title: 'after' }).then(() => null, describe);
  const second = new SQLiteStorage({ dbPath: path.join(dir, 'b.db') });
  const open = await second.initialize().then(() => null, describe);
  for (const fd of held) closeSync(fd);
  process.stdout.write(`${JSON.stringify({ write, open, held: held.length })}\n`);
  await first.shutdown();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
