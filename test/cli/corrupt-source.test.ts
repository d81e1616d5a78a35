/**
 * `migrate` from a source holding data that does not parse. A file store's cache or state file
 * that does not parse is skipped by its listings: the run refuses before writing (exit 2),
 * naming the files, where it copied the rest and exited 0 with no warning. Other source data
 * that does not parse fails the run, and the message says that running it again fails there
 * too until the data is repaired, where it said only "run the same command again to resume",
 * and that `--check-source` names all of it; with `--check-source` the run reads the whole source
 * first and refuses before writing (exit 2), naming every file that does not parse.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

  it('says a corrupt source record stops every run until it is repaired (exit 3 after writing), then resumes', async () => {
    const source = await sourceWith('record', []);
    // A second conversation after it, so the run has written when it meets the corrupt one.
    const writer = new FileStorage({ baseDir: source });
    await writer.initialize();
    await writer.storeConversation('c2', { title: 'second' });
    await writer.shutdown();
    const original = await readFile(join(source, 'conversations', 'c2', 'current.json'));
    await writeFile(join(source, 'conversations', 'c2', 'current.json'), '{"title": ');
    const target = join(dir, 'record-out');
    const args = ['migrate', '--from', `file:${source}`, '--to', `file:${target}`, '--batch-size', '0'];
    for (let run = 0; run < 2; run += 1) {
      const result = await cli(...args);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`Corrupt data in the source at ${join(source, 'conversations', 'c2')}`);
      expect(result.stderr).toMatch(
        /The target holds a partial copy\. Running it again fails there too until/,
      );
      expect(result.stderr).toMatch(/repaired or moved out of the source; then run the same command again/);
      expect(result.stderr).toMatch(/--check-source names all the data of the source that does not parse/);
    }
    const dry = await cli(...args, '--dry-run');
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(
      /Dry run failed: Corrupt data in the source .* Running it again fails there too/,
    );
    // Repaired, the same command resumes the partial copy and finishes it.
    await writeFile(join(source, 'conversations', 'c2', 'current.json'), original);
    const resumed = await cli(...args);
    expect(resumed).toMatchObject({ code: 0 });
    const copy = new FileStorage({ baseDir: target, readOnly: true });
    await copy.initialize();
    try {
      expect(await copy.loadConversation('c2')).toEqual({ title: 'second' });
      expect(await copy.loadRawMessages('c1')).toEqual([{ role: 'user', content: 'hi' }]);
    } finally {
      await copy.shutdown();
    }
  });

  it('--check-source names every file that does not parse before writing (exit 2)', async () => {
    const source = await sourceWith('check', ['conversations/c1/raw_messages.json', 'cache/forever.json']);
    const writer = new FileStorage({ baseDir: source });
    await writer.initialize();
    await writer.storeConversation('c2', { title: 'second' });
    await writer.shutdown();
    await writeFile(join(source, 'conversations', 'c2', 'current.json'), '{"title": ');
    const target = join(dir, 'check-out');
    const result = await cli(
      'migrate',
      '--from',
      `file:${source}`,
      '--to',
      `file:${target}`,
      '--check-source',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('holds 3 file(s) or record(s) that do not parse');
    for (const file of [
      'cache/forever.json',
      join(source, 'conversations', 'c1', 'raw_messages.json'),
      join(source, 'conversations', 'c2', 'current.json'),
    ])
      expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(existsSync(join(target, 'conversations', 'c1'))).toBe(false);
  });
});
