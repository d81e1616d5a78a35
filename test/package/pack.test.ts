/**
 * The package as users get it. A fresh copy of the sources (no `dist/`) is packed once with
 * `npm pack`, and the tarball unpacked into a temp consumer project whose dependencies resolve
 * through this repository's `node_modules` (no install, so the test stays offline and cheap;
 * the one build is most of its time). `scripts/check-consumers.mjs` (CI) installs it for real.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
/** What `npm pack` needs from a checkout. */
const SOURCES = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'scripts/build.mjs',
  'src',
];

let work = '';
let tarFiles: string[] = [];
/** The consumer project, with the package in `node_modules/connectome-storage`. */
let consumer = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'connectome-package-'));
  const copy = join(work, 'checkout');
  for (const entry of SOURCES) {
    if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(copy, entry), { recursive: true });
  }
  const modules = realpathSync(join(repo, 'node_modules'));
  symlinkSync(modules, join(copy, 'node_modules'), 'dir');
  const packs = join(work, 'packs');
  mkdirSync(packs);
  // Lifecycle scripts (prepack) run as `npm pack` would run them for a publish.
  execFileSync('npm', ['pack', '--pack-destination', packs], {
    cwd: copy,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tarball = join(packs, readdirSync(packs).find((name) => name.endsWith('.tgz')) ?? 'missing.tgz');
  tarFiles = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);

  // An installed package's dependencies resolve from the folders above it: here the repository's.
  symlinkSync(modules, join(work, 'node_modules'), 'dir');
  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(consumer, 'node_modules')]);
  renameSync(join(consumer, 'node_modules/package'), join(consumer, 'node_modules/connectome-storage'));
}, 15 * 60_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('builds before packing, so a checkout without dist/ ships both builds and their declarations', () => {
    for (const file of ['dist/cjs/index.js', 'dist/esm/index.js', 'dist/cjs/cli/bin.js']) {
      expect(tarFiles).toContain(`package/${file}`);
    }
    expect(tarFiles.some((file) => file.endsWith('.d.ts'))).toBe(true);
  });
});
