/**
 * The store a command names in its success output (text and `--json`) is shown as its error
 * messages show it: a URL's password in a spec's path masked, control characters escaped.
 * Until 2026-12-06 `stats`, `health`, `purge-cache`, `list`, `search` and `migrate` printed it
 * as typed, and `search` the words it found nothing for too.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

const PASSWORD = 'sekretpw';

let dir: string;
/** A file store whose path reads as a URL with a password. */
let secretSpec: string;
/** A file store whose path holds an escape sequence and a line break. */
let controlSpec: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-display-'));
  const secretPath = join(dir, `redis://u:${PASSWORD}@h`);
  const controlPath = join(dir, 'evil\u001b[2J\nname');
  for (const baseDir of [secretPath, controlPath]) {
    const store = new FileStorage({ baseDir });
    await store.initialize();
    await store.storeConversation('c1', { text: 'hello world' });
    await store.shutdown();
  }
  // Not join(): it would fold the `//` the URL needs.
  secretSpec = `file:${dir}/redis://u:${PASSWORD}@h`;
  controlSpec = `file:${controlPath}`;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every command that prints the store on success, plain and `--json`, on `spec`. */
function successRuns(spec: string): string[][] {
  const target = `sqlite:${join(dir, `target-${Math.random().toString(36).slice(2)}.db`)}`;
  const runs = [
    ['stats', spec],
    ['health', spec],
    ['purge-cache', spec],
    ['list', 'conversations', spec],
    ['search', spec, 'nothingmatches'],
    ['migrate', '--from', spec, '--to', target, '--dry-run'],
  ];
  return [
    ...runs,
    ...runs.map((args) => [...args, '--json']),
    ['migrate', '--from', spec, '--to', target],
    ['migrate', '--from', spec, '--to', `${target}.json.db`, '--json'],
  ];
}

describe('CLI: the store shown in success output', () => {
  it('masks the password of a URL in the spec (text and --json)', async () => {
    for (const args of successRuns(secretSpec)) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 0 });
      // A health report's `base_directory` is the resolved path, `redis:/u:...@h`: no URL.
      expect({ args, all: result.all }).toEqual({
        args,
        all: expect.not.stringContaining(`redis://u:${PASSWORD}`),
      });
      if (args[0] !== 'list' || args.includes('--json')) {
        expect({ args, all: result.all }).toEqual({ args, all: expect.stringContaining('redis://u:***@h') });
      }
    }
  });

  it('escapes control characters of the spec (text and --json)', async () => {
    for (const args of successRuns(controlSpec)) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 0 });
      expect({ args, all: result.all }).toEqual({ args, all: expect.not.stringContaining('\u001b') });
      expect({ args, all: result.all }).toEqual({ args, all: expect.not.stringContaining('\nname') });
      if (args[0] !== 'list' || args.includes('--json')) {
        // JSON escapes the backslash of the shown `\u001b` again.
        expect({ args, all: result.all }).toEqual({
          args,
          all: expect.stringMatching(/evil\\+u001b\[2J\\+nname/),
        });
      }
    }
  });

  it('masks the password in the path of an env file naming the store', async () => {
    const folder = join(dir, `redis:/u:${PASSWORD}@envhost`);
    await mkdir(folder, { recursive: true });
    const envFile = `${dir}/redis://u:${PASSWORD}@envhost/store.env`;
    await writeFile(envFile, `CONNECTOME_STORAGE_BASE_DIR=${dir}/redis://u:${PASSWORD}@h\n`);
    for (const json of [[], ['--json']]) {
      const result = await cli('stats', '--env', envFile, ...json);
      expect(result.code).toBe(0);
      expect(result.all).not.toContain(PASSWORD);
      expect(result.all).toContain('redis://u:***@envhost/store.env');
    }
  });

  it('masks a URL in the words search found nothing for', async () => {
    const result = await cli('search', controlSpec, `redis://u:${PASSWORD}@zz/`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No records in');
    expect(result.stdout).toContain('redis://u:***@zz/');
    expect(result.stdout).not.toContain(PASSWORD);
  });
});
