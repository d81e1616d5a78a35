/**
 * Child process of `backups-atomic.test.ts`, run with `TZ` set: plants a backup named in the
 * reference's way (local time, whole seconds) an hour old beside a memories file, makes two
 * backups of its own with `maxBackupFiles: 2`, and prints the zone's offset, the planted name
 * and the backups left. Usage: tsx ... <baseDir>
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';

async function main(): Promise<void> {
  const [baseDir] = process.argv.slice(2);
  if (baseDir === undefined) throw new Error('usage: <baseDir>');
  const storage = new FileStorage({ baseDir, maxBackupFiles: 2 });
  await storage.initialize();
  await storage.storeMemory('c1', 'm0', { n: 0 });
  const dir = path.join(baseDir, 'conversations', 'c1');
  const hourAgo = new Date(Date.now() - 3_600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${hourAgo.getFullYear()}${pad(hourAgo.getMonth() + 1)}${pad(hourAgo.getDate())}_` +
    `${pad(hourAgo.getHours())}${pad(hourAgo.getMinutes())}${pad(hourAgo.getSeconds())}`;
  const planted = `memories.${stamp}.backup.json`;
  fs.writeFileSync(path.join(dir, planted), '{}');
  await storage.storeMemory('c1', 'm1', { n: 1 });
  await storage.storeMemory('c1', 'm2', { n: 2 });
  await storage.shutdown();
  const backups = fs.readdirSync(dir).filter((name) => name.includes('.backup'));
  process.stdout.write(JSON.stringify({ offset: hourAgo.getTimezoneOffset(), planted, backups }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
