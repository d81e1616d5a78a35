/**
 * Child process of `read-only-disk.test.ts`: opens a store on a loop disk, starts many writes
 * at once and makes the disk read-only (the kernel's emergency remount) once `after` of them
 * have settled, so the others fail at every step of a write. Shuts the store down and prints
 * one JSON line: each write's outcome, and any unhandled rejection. Then it exits, so the temp
 * files it could not remove belong to a dead process (the next open removes them).
 * Usage: tsx read-only-midway.child.ts <baseDir> <trigger_fs_error path> <after>
 */
import { writeFileSync } from 'node:fs';
import { FileStorage } from '../../src/backends/file/index.js';
import { midwayWrites, type Outcome } from './read-only-midway.js';

async function main(): Promise<void> {
  const [baseDir, trigger, after] = process.argv.slice(2);
  if (!baseDir || !trigger || !after)
    throw new Error('usage: read-only-midway.child.ts <baseDir> <trigger> <after>');
  const unhandled: string[] = [];
  process.on('unhandledRejection', (reason) => void unhandled.push(String(reason)));
  const store = new FileStorage({ baseDir });
  await store.initialize();
  let settled = 0;
  const settle = () => {
    settled += 1;
    if (settled === Number(after)) writeFileSync(trigger, '1');
  };
  const outcomes = await Promise.all(
    midwayWrites().map(async (write): Promise<Outcome> => {
      try {
        await write.run(store);
        settle();
        return { name: write.name, error: null };
      } catch (error) {
        settle();
        const named = error as Error;
        return { name: write.name, error: `${named.constructor.name}: ${named.message}` };
      }
    }),
  );
  await store.shutdown();
  process.stdout.write(`${JSON.stringify({ outcomes, unhandled })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
