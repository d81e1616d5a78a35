/**
 * Behaviour does not depend on the machine's time zone or locale. CI runs in UTC with a C
 * locale; users' machines do not. `zone-locale.child.ts` drives the timestamp, cache expiry,
 * ordering, search and migration paths of the file and SQLite backends with fixed inputs, once
 * in UTC and a C locale and once in each zone below with a Turkish locale (its dotted and
 * dotless i fold differently), and what it observes must be the same. Children, because a
 * process reads `TZ` and its locale once, at its start.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const TSX = path.join('node_modules', '.bin', 'tsx');
const CHILD = path.join('test', 'core', 'zone-locale.child.ts');

interface Observed {
  offsetMinutes: number;
  locale: string;
  [part: string]: unknown;
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Runs the child with `env` over the current environment, in a fresh folder. */
async function observeIn(env: Record<string, string>): Promise<Observed> {
  const dir = await mkdtemp(path.join(tmpdir(), 'connectome-zone-'));
  dirs.push(dir);
  const { stdout } = await promisify(execFile)(TSX, [CHILD, dir], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Observed;
}

const TURKISH = { LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' };

it('stores, expires, orders, searches and migrates alike in UTC and at +14:00, -03:30 (DST) under a Turkish locale', async () => {
  const [utc, kiritimati, stJohns] = await Promise.all([
    observeIn({ TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }),
    observeIn({ TZ: 'Pacific/Kiritimati', ...TURKISH }),
    observeIn({ TZ: 'America/St_Johns', ...TURKISH }),
  ]);
  // The zones and the locale took effect (Node's ICU reads the locale from the environment).
  expect([utc.offsetMinutes, kiritimati.offsetMinutes, stJohns.offsetMinutes]).toEqual([0, -840, 210]);
  expect([kiritimati.locale, stJohns.locale]).toEqual(['tr-TR', 'tr-TR']);
  // Everything else is the same.
  const rest = ({ offsetMinutes: _offset, locale: _locale, ...others }: Observed) => others;
  const expected = rest(utc);
  expect(rest(kiritimati)).toEqual(expected);
  expect(rest(stJohns)).toEqual(expected);
  // And what it is: a timestamp without offset means UTC (the README's rule), kept as its text.
  expect(expected.time).toContainEqual([Date.UTC(2025, 2, 6, 10), '2025-03-06T10:00:00.000000+00:00']);
  expect(JSON.stringify(expected.copied)).toContain('"created_at":"2026-10-25T01:30:00"');
});
