/**
 * `search --skip-unreadable`: a record that does not parse is left out of the hits and named on
 * stderr; without the flag the search fails naming it, and says how to go on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-unreadable-'));
  const store = new FileStorage({ baseDir: dir });
  await store.initialize();
  await store.storeRawMessages('c1', [{ content: 'quarterly report draft' }]);
  await store.storeRawMessages('c2', [{ content: 'quarterly numbers' }]);
  await store.shutdown();
  // c1's messages cut off mid-record, as a damaged disk leaves them.
  await writeFile(join(dir, 'conversations', 'c1', 'raw_messages.json'), '{"raw_messages": [ {"con');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('search --skip-unreadable', () => {
  it('without it, a record that does not parse fails the search, naming it and the flag', async () => {
    const result = await cli('search', `file:${dir}`, 'quarterly');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join('c1', 'raw_messages.json'));
    expect(result.stderr).toContain('--skip-unreadable');
  });

  it('with it, the other hits are printed and the record left out is named on stderr', async () => {
    const result = await cli('search', `file:${dir}`, 'quarterly', '--skip-unreadable');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([expect.stringContaining('raw_messages c2#0')]);
    expect(result.stderr).toContain('warning: search: left out raw_messages of "c1"');
    const json = await cli('search', `file:${dir}`, 'quarterly', '--skip-unreadable', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).hits.map((hit: { conversationId: string }) => hit.conversationId)).toEqual(
      ['c2'],
    );
  });
});
