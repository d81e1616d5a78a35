/**
 * What each entry point exports (read by the TypeScript compiler from the sources): the root
 * (`src/index.ts`) only the API the README documents and the types its signatures use, so an
 * internal helper cannot become a semver promise unnoticed; `connectome-storage/backend`
 * (`src/backend.ts`) what a custom backend needs beyond it, each name listed in the README.
 */
import type * as ts from 'typescript';
import { ApiSurface, codeIdentifiers } from './api-surface.js';
import { readmeText, section } from './readme.js';

const readme = readmeText();
/** Every identifier the README shows as code. */
const documented = codeIdentifiers(readme);
const surface = new ApiSurface(['src/index.ts', 'src/backend.ts']);
const root = surface.exportsOf('src/index.ts');
const backend = surface.exportsOf('src/backend.ts');
/** The root's exports the README names: the seeds of what its signatures reach. */
const rootDocumented = root.filter(({ name }) => documented.has(name));

/**
 * Types a public signature uses that no entry exports, each named by where it is met; they
 * were not exported before the root was narrowed either. Shrink only.
 */
const UNNAMEABLE = new Set([
  'EntryNames', // FileStorage's internals (a constructor parameter for tests)
  'FileStorageInternals',
  'InspectFunction', // the util.inspect.custom member's type
  'LockKindName',
  'NameFolding',
  'RecordOf', // SearchHit's record, per kind
  'RecordToEmbed', // protected semantic-index hooks of StorageInterface
  'ResolvedPostgresConfig', // the stores' resolved `config` fields
  'ResolvedSQLiteConfig',
  'SemanticIndex',
  'VectorChanges',
  'VectorRef',
]);

/** The names of `symbols` that `entries` do not export, less the known ones. */
function notExported(symbols: Iterable<ts.Symbol>, ...entries: (typeof root)[]): string[] {
  const exported = new Set(entries.flat().map(({ target }) => target));
  return [...symbols]
    .filter((symbol) => !exported.has(symbol) && !UNNAMEABLE.has(symbol.name))
    .map((symbol) => symbol.name)
    .sort();
}

describe('the package root', () => {
  const reachable = surface.reachableFrom(rootDocumented.map(({ target }) => target));

  it('exports only what the README names or a type its documented API uses', () => {
    expect(rootDocumented.length).toBeGreaterThan(50);
    const internal = root
      .filter(({ name, target }) => !documented.has(name) && !reachable.has(target))
      .map(({ name }) => name);
    expect(internal).toEqual([]);
  });

  it('exports every type of ours its documented API uses, so a user can name each', () => {
    expect(notExported(reachable, root)).toEqual([]);
  });
});

describe('connectome-storage/backend', () => {
  const storageInterface = root.find(({ name }) => name === 'StorageInterface');

  it('is listed in the README, each name in "Adding a backend"', () => {
    const listed = codeIdentifiers(section(readme, 'Adding a backend'));
    expect(backend.length).toBeGreaterThan(10);
    expect(backend.map(({ name }) => name).filter((name) => !listed.has(name))).toEqual([]);
  });

  it('repeats nothing of the root', () => {
    const names = new Set(root.map(({ name }) => name));
    expect(backend.map(({ name }) => name).filter((name) => names.has(name))).toEqual([]);
  });

  it('with the root, exports every type a subclass of StorageInterface or a helper uses', () => {
    const seeds = [
      ...backend.map(({ target }) => target),
      ...(storageInterface ? [storageInterface.target] : []),
    ];
    expect(notExported(surface.reachableFrom(seeds, true), root, backend)).toEqual([]);
  });
});
