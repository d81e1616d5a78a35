/**
 * `migrate` from a source holding data that does not parse. A file store's cache or state file
 * that does not parse is skipped by its listings: the run refuses before writing (exit 2),
 * naming the files, where it copied the rest and exited 0 with no warning.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-corrupt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The folder of a file store with a conversation, a cache entry and a state key, `corrupt` files spoilt. */
async function sourceWith(name: string, corrupt: string[]): Promise<string> {
  const baseDir = join(dir, name);
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  await writer.storeConversation('c1', { title: 'kept' });
  await writer.storeRawMessages('c1', [{ role: 'user', content: 'hi' }]);
  await writer.storeCacheEntry('forever', { v: 1 });
  await writer.storeSystemState('settings', { mode: 'a' });
  await writer.shutdown();
  for (const file of corrupt) await writeFile(join(baseDir, file), '{"truncated": ');
  return baseDir;
}

describe('migrate from a source with files that do not parse', () => {
  it('refuses a corrupt cache or state file before writing, naming it (exit 2)', async () => {
    const source = await sourceWith('cache-state', ['cache/forever.json', 'system/settings.json']);
    const target = join(dir, 'cache-state-out');
    const result = await cli('migrate', '--from', `file:${source}`, '--to', `file:${target}`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cache/forever.json, system/settings.json');
    expect(result.stderr).toMatch(/move them out of the store/);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(existsSync(join(target, 'conversations', 'c1'))).toBe(false);
  });
});
