/**
 * With `--json`, every usage error prints the JSON error object on stdout, those commander's
 * option parsers find (`--limit 0`, an option given twice, an unknown option or listing) as
 * well as those the commands find (`--limit 10001`): until 2026-12-06 stdout stayed empty for
 * the first kind. And `search`'s hint about words starting with `-` follows only an unknown
 * option, where it applies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { cli } from './run-cli.js';

const HINT = 'words that start with - go after --';

let dir: string;
let spec: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-json-usage-'));
  const store = new FileStorage({ baseDir: dir });
  await store.initialize();
  await store.shutdown();
  spec = `file:${dir}`;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CLI: usage errors with --json', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['list --limit 0', () => ['list', 'agents', spec, '--json', '--limit', '0'], /--limit.*positive integer/],
    ['list --limit 10001', () => ['list', 'agents', spec, '--json', '--limit', '10001'], /limit/],
    ['search --limit 0', () => ['search', spec, 'x', '--limit', '0', '--json'], /--limit.*positive integer/],
    [
      'search --mode twice',
      () => ['search', spec, 'x', '--mode', 'text', '--mode', 'text', '--json'],
      /--mode.*given twice/,
    ],
    [
      'migrate --concurrency 0',
      () => ['migrate', '--from', spec, '--to', 'sqlite::memory:', '--json', '--concurrency', '0'],
      /--concurrency.*positive integer/,
    ],
    ['an unknown option', () => ['stats', spec, '--json', '--bogus'], /unknown option '--bogus'/],
    ['an unknown listing', () => ['list', 'agnets', spec, '--json'], /value 'agnets' is invalid/],
  ];

  it.each(cases)('prints the JSON error object for %s (exit 2)', async (_name, args, message) => {
    const result = await cli(...args());
    expect(result.code).toBe(2);
    const printed = JSON.parse(result.stdout) as { ok: boolean; error: string; exitCode: number };
    expect(printed).toEqual({ ok: false, error: expect.stringMatching(message), exitCode: 2 });
    // stderr still has the message.
    expect(result.stderr).toMatch(message);
  });

  it('prints nothing on stdout without --json, or with --json a word after --', async () => {
    for (const args of [
      ['list', 'agents', spec, '--limit', '0'],
      ['search', spec, '--limit', '0', '--', '--json'],
    ]) {
      const result = await cli(...args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
    }
  });

  it('masks a URL password that a usage error echoes', async () => {
    const result = await cli(
      'search',
      spec,
      'x',
      '--mode',
      'text',
      '--mode',
      'redis://u:hunter2@h',
      '--json',
    );
    expect(result.code).toBe(2);
    expect(result.all).not.toContain('hunter2');
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: expect.stringContaining("argument 'redis://u:***@h' is invalid"),
      exitCode: 2,
    });
  });
});

describe("CLI: search's hint about words starting with -", () => {
  it('follows an unknown option only', async () => {
    const dashed = await cli('search', spec, '-draft notes');
    expect(dashed.code).toBe(2);
    expect(dashed.stderr).toContain(HINT);
    expect(dashed.stderr).toContain('--help for usage');
    for (const args of [
      ['search', spec, 'x', '--limit', '0'],
      ['search', spec, 'x', '--mode', 'text', '--mode', 'text'],
    ]) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect({ args, stderr: result.stderr }).toEqual({ args, stderr: expect.not.stringContaining(HINT) });
      expect({ args, stderr: result.stderr }).toEqual({
        args,
        stderr: expect.stringContaining('--help for usage'),
      });
    }
  });
});
