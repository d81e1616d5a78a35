/**
 * The converter's refusal of host objects JSON would empty (D4) reads Node's lazy web globals
 * (`Headers`, `Response`, ...: reading one loads its module, undici alone ~40 ms) and probes
 * `Intl.Segmenter` only at the first value no other built-in names, never at import. Each case
 * runs in a fresh process (`lossy-deferred.child.ts`), since a process resolves those globals
 * once: after plain writes they are still unread, and whichever value comes first (a class
 * instance, or one of the deferred host objects itself) is converted as before.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const TSX = path.join('node_modules', '.bin', 'tsx');
const CHILD = path.join('test', 'core', 'lossy-deferred.child.ts');

interface Observed {
  lazyNamed: string[];
  stillUnread: string[];
  results: Array<{ name: string; stored?: unknown; refused?: string }>;
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function observe(...values: string[]): Promise<Observed> {
  const dir = await mkdtemp(path.join(tmpdir(), 'connectome-lossy-'));
  dirs.push(dir);
  const { stdout } = await promisify(execFile)(TSX, [CHILD, dir, ...values], { encoding: 'utf8' });
  return JSON.parse(stdout) as Observed;
}

const refusal = (name: string) =>
  `Cannot store Value: ${name} would not survive JSON; convert it to a plain object or array at $.v`;

describe('host objects JSON would empty, resolved at the first unnamed value', () => {
  it('leaves the lazy web globals unread through import and plain writes', async () => {
    const { lazyNamed, stillUnread } = await observe();
    // Node 20 defines these lazily (undici's classes, the web streams, ...); whatever this
    // version does, the library's import and plain writes read none of those its table names.
    expect(lazyNamed).toEqual(expect.arrayContaining(['Headers', 'Response', 'ReadableStream']));
    expect(stillUnread).toEqual(lazyNamed);
  });

  it.each([
    [
      ['headers', 'response'],
      [refusal('Headers'), refusal('Response')],
    ],
    [['response'], [refusal('Response')]],
    [
      ['segments', 'headers'],
      [refusal('Intl.Segments'), refusal('Headers')],
    ],
  ])('refuses %j when it is the first value to need them', async (values, messages) => {
    const { results } = await observe(...values);
    expect(results.map((result) => result.refused)).toEqual(messages);
  });

  it('refuses them after a class instance was converted first (and keeps the instance)', async () => {
    const { results } = await observe('point', 'headers', 'segments');
    expect(results[0]).toEqual({ name: 'point', stored: { v: { x: 1, y: 2 } } });
    expect(results.slice(1).map((result) => result.refused)).toEqual([
      refusal('Headers'),
      refusal('Intl.Segments'),
    ]);
  });
});
