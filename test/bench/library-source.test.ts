/**
 * The benchmark takes every value of the library from `bench/library-module.ts` (the built
 * package by default), so it measures what users run and one process never mixes `src` and
 * `dist` copies of a class. Only type imports may name `src` elsewhere, except in the profiling
 * scripts whose header says they run the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const benchDir = join(__dirname, '..', '..', 'bench');
const SOURCES_NOTE = "Runs the library's sources through tsx";

/** The bench's TypeScript files, as paths relative to `bench/`. */
function benchFiles(): string[] {
  return readdirSync(benchDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('results'))
    .sort();
}

/** The value names an import statement takes from the library's sources (none for `import type`). */
function sourceValueImports(text: string): string[] {
  const found: string[] = [];
  const statement = /import\s+(type\s+)?([^;]*?)\s+from\s+'(?:\.\.\/)+src\/[^']*'/g;
  for (const match of text.matchAll(statement)) {
    if (match[1] !== undefined) continue;
    const names = match[2]!.replace(/[{}]/g, '').split(',');
    found.push(
      ...names.map((name) => name.trim()).filter((name) => name !== '' && !name.startsWith('type ')),
    );
  }
  if (/import\(`[^`]*\/src\//.test(text) || /import\('(?:\.\.\/)+src\//.test(text)) found.push('import()');
  return found;
}

describe('bench library source', () => {
  it('finds value imports and ignores type imports', () => {
    expect(sourceValueImports("import { createStorage, type X } from '../src/index.js';")).toEqual([
      'createStorage',
    ]);
    expect(sourceValueImports("import type { X } from '../../src/index.js';")).toEqual([]);
    expect(sourceValueImports("import { type X } from '../src/index.js';")).toEqual([]);
  });

  it('takes library values only from library-module.ts outside the profiling scripts', () => {
    const offenders = benchFiles()
      .filter((file) => file !== 'library-module.ts')
      .map((file) => ({ file, text: readFileSync(join(benchDir, file), 'utf8') }))
      .filter(({ text }) => !text.includes(SOURCES_NOTE))
      .flatMap(({ file, text }) => sourceValueImports(text).map((name) => `${file}: ${name}`));
    expect(offenders).toEqual([]);
    // The check reads real files: the bench's own entry points are among them.
    expect(benchFiles().map((file) => relative('.', file))).toEqual(
      expect.arrayContaining(['library.ts', 'workloads/migrate-child.ts', 'workloads/w7-search.ts']),
    );
  });

  it('loads the built package in npm run bench', () => {
    const manifest = JSON.parse(readFileSync(join(benchDir, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.bench).toMatch(/^npm run build && /);
  });
});
