/**
 * What `list` and `search` print of stored data: URL passwords in it are redacted (text and
 * JSON), and in text output every control character is escaped, so a stored terminal escape
 * sequence never reaches the terminal and each item stays on one line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

const SECRET = 's3cret-pw';
const DSN = `postgres://admin:${SECRET}@db.example/x`;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-stored-'));
  const store = new FileStorage({ baseDir: dir });
  await store.initialize();
  await store.storeConversation('c1', { title: 't' });
  await store.storeMemory('c1', 'm1', {
    summary: `quarterly report line1\nline2 uses ${DSN} \u001b[31mRED\u001b[0m \u009b2J`,
  });
  await store.storeSystemState(`dsn ${DSN}`, { v: 1 });
  await store.storeSystemState('esc \u001b]0;title\u0007 \u009b2J', { v: 1 });
  await store.shutdown();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** No secret, no raw control character (other than the line ends) in `text`. */
function expectSafe(text: string): void {
  expect(text).not.toContain(SECRET);
  // eslint-disable-next-line no-control-regex -- finding them is the point
  expect(text.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
}

describe('stored text in CLI output', () => {
  it('search redacts passwords and escapes control characters, one line per hit', async () => {
    const text = await cli('search', `file:${dir}`, 'quarterly');
    expect(text.code).toBe(0);
    expectSafe(text.stdout);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(text.stdout).toContain('line2 uses postgres://admin:***@db.example/x \\u001b[31mRED');
    const json = await cli('search', `file:${dir}`, 'quarterly', '--json');
    expect(json.stdout).not.toContain(SECRET);
  });

  it('list redacts passwords in text and JSON and escapes control characters', async () => {
    const text = await cli('list', 'state-keys', `file:${dir}`);
    expect(text.code).toBe(0);
    expectSafe(text.stdout);
    expect(text.stdout).toContain('"dsn postgres://admin:***@db.example/x"');
    expect(text.stdout).toContain('"esc \\u001b]0;title\\u0007 \\u009b2J"');
    const json = await cli('list', 'state-keys', `file:${dir}`, '--json');
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain(SECRET);
    expect(JSON.parse(json.stdout).items).toContain('dsn postgres://admin:***@db.example/x');
  });
});
