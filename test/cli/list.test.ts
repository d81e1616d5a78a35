/** The CLI's `list` command, in process: pages with `--after`/`--limit`, `--json`, bad input. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-list-'));
  const store = new FileStorage({ baseDir: dir });
  await store.initialize();
  for (const id of ['c', 'a', 'b', 'ü', 'line\nbreak key']) await store.storeSystemState(id, { id });
  for (const id of ['conv_2', 'conv_1']) await store.storeConversation(id, { id });
  await store.shutdown();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('connectome-storage list', () => {
  it('prints a page, one JSON string per line, and the cursor of the next one on stderr', async () => {
    const first = await cli('list', 'state-keys', `file:${dir}`, '--limit', '2');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('"a"\n"b"\n');
    const cursor = /^more: --after (\S+)\n$/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const rest = await cli('list', 'state-keys', `file:${dir}`, '--after', cursor as string, '--limit', '5');
    expect(rest).toMatchObject({ code: 0, stdout: '"c"\n"line\\nbreak key"\n"ü"\n', stderr: '' });
    const all = await cli('list', 'conversations', `file:${dir}`);
    expect(all).toMatchObject({ code: 0, stdout: '"conv_1"\n"conv_2"\n', stderr: '' });
  });

  it('prints { store, listing, items, next } with --json', async () => {
    const result = await cli('list', 'conversations', `file:${dir}`, '--limit', '1', '--json');
    expect(result.code).toBe(0);
    const page = JSON.parse(result.stdout) as { listing: string; items: string[]; next: string | null };
    expect(page).toMatchObject({ listing: 'conversations', items: ['conv_1'] });
    const next = await cli('list', 'conversations', `file:${dir}`, '--after', page.next as string, '--json');
    expect(JSON.parse(next.stdout)).toMatchObject({ items: ['conv_2'], next: null });
  });

  it('exits 2 on an unknown listing, a bad limit, or a cursor of another listing', async () => {
    const page = await cli('list', 'state-keys', `file:${dir}`, '--limit', '1', '--json');
    const foreign = (JSON.parse(page.stdout) as { next: string }).next;
    for (const args of [
      ['list', 'everything', `file:${dir}`],
      ['list', 'agents', `file:${dir}`, '--limit', '0'],
      ['list', 'agents', `file:${dir}`, '--limit', '10001'],
      ['list', 'conversations', `file:${dir}`, '--after', foreign],
      ['list', 'conversations', `file:${dir}`, '--after', 'garbage'],
    ]) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
    const bad = await cli('list', 'conversations', `file:${dir}`, '--after', foreign);
    expect(bad.stderr).toMatch(/Invalid after: is a cursor of another listing/);
  });
});
