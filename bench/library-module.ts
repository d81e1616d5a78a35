/**
 * The library as the benchmark runs it: by default the built package (`dist/cjs`, what users
 * get from `require` or `import`: `dist/esm` re-exports it), or with `BENCH_SOURCE=src` the
 * sources through tsx, for quick runs without building.
 *
 * Why not the sources: tsx compiles them with esbuild's `keepNames`, which wraps every function
 * a `const` holds in a `__name(...)` call, a `defineProperty` each time such a function is
 * created (~35 µs of a 263 µs `loadCacheEntries(100)` batch on 2026-12-03). The built package
 * (tsc) has none, and the raw and Keyv subjects' hot code is their drivers in `node_modules`,
 * which tsx does not transform: the library rows carried a cost no user pays.
 *
 * Every value of the library the bench uses comes from here, so one process never holds two
 * copies of a class (a `dist` error would fail an `instanceof` against the `src` class). The
 * types come from `src`, so the bench typechecks on a clean clone without `dist`.
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Library from '../src/index.js';

/** Where the library's code comes from: the built package, or the sources through tsx. */
export type LibrarySource = 'dist' | 'src';

/** The source this process loads, from `BENCH_SOURCE` (`dist` unless it says `src`). */
export const librarySource: LibrarySource = parseSource(process.env.BENCH_SOURCE);

/** Refuses a value other than `dist`, `src` or unset, before anything is loaded. */
function parseSource(value: string | undefined): LibrarySource {
  if (value === undefined || value === '' || value === 'dist') return 'dist';
  if (value === 'src') return 'src';
  throw new Error(`BENCH_SOURCE must be 'dist' or 'src', not '${value}'`);
}

/** The newest modification time (ms) of a file under `dir`, and that file. */
function newestFile(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(file);
    if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  }
  return newest;
}

/**
 * The built entry of the checkout at `root`, checked to exist and to be newer than every file
 * of its `src`: a stale build would measure code that is no longer the checkout's.
 */
export function builtEntry(root: string): string {
  const entry = join(root, 'dist', 'cjs', 'index.js');
  let built: number;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    throw new Error(
      `bench: ${entry} is missing: run \`npm run build\` in ${root} (or set BENCH_SOURCE=src to run the sources)`,
    );
  }
  const newest = newestFile(join(root, 'src'));
  if (newest.mtimeMs > built)
    throw new Error(
      `bench: ${entry} is older than ${newest.file}: run \`npm run build\` in ${root} (or set BENCH_SOURCE=src)`,
    );
  return entry;
}

/** This checkout's root (the folder above `bench/`). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The library's public API, loaded once from the source this process uses. */
export const library: typeof Library = createRequire(import.meta.url)(
  librarySource === 'dist' ? builtEntry(root) : join(root, 'src', 'index.ts'),
) as typeof Library;
