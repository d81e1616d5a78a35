/**
 * What `list` and `search` print of stored data: URL passwords in it are redacted (text and
 * JSON), and in text output every control character is escaped, so a stored terminal escape
 * sequence never reaches the terminal and each item stays on one line.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { formatReport } from '../../src/cli/format.js';
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

  it('migrate escapes control characters of stored text in its warnings and messages', async () => {
    // A cache file another program wrote: its stored_at is text no store accepts (a warning
    // quoting it), holding C1 controls and a line separator that JSON.stringify leaves as they are.
    const source = join(dir, 'odd-source');
    await mkdir(join(source, 'cache'), { recursive: true });
    const envelope = {
      cache_key: 'odd',
      data: { v: 1 },
      stored_at: 'yesterday \u009b2J\u0085\u2028',
      expires_at: null,
    };
    await writeFile(join(source, 'cache', 'odd.json'), JSON.stringify(envelope));
    const copied = await cli('migrate', '--from', `file:${source}`, '--to', `sqlite:${join(dir, 'odd.db')}`);
    expect(copied.code).toBe(0);
    expect(copied.stdout).toContain('(got "yesterday \\u009b2J\\u0085\\u2028")');
    expectSafe(copied.stdout);
    expect(copied.stdout).not.toContain('\u2028');

    // A refusal naming an agent whose id holds a C1 control (the id rule allows them).
    const chains = join(dir, 'chains-source');
    const store = new FileStorage({ baseDir: chains });
    await store.initialize();
    await store.appendReasoningChains('agent \u009b2J', [{ step: 1 }, { step: 2 }]);
    await store.shutdown();
    const target = `sqlite:${join(dir, 'chains.db')}?maxReasoningChainsPerAgent=1`;
    const refused = await cli('migrate', '--from', `file:${chains}`, '--to', target);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Agent "agent \\u009b2J" has 2 reasoning chains');
    expectSafe(refused.stderr);
  });

  it('health and stats text reports escape control characters, one line per field', () => {
    const text = formatReport({
      store: 'file:/tmp/x',
      status: 'error',
      error: 'Corrupt data in key "k \u001b]0;title\u0007": line1\nline2 \u009b2J',
      details: { key: 'k \u009b2J \u2028 \u0085' },
    });
    expectSafe(text);
    expect(text.split('\n')).toHaveLength(5);
    expect(text).toContain('\\u009b2J');
  });
});
