/** Opening a fresh store for any subject on any backend, and which subjects run where. */
import { openKeyv } from './keyv/adapter.js';
import { keyvSupports } from './keyv/stores.js';
import { openLibrary } from './library.js';
import { openRawFile } from './raw/file.js';
import { openRawPostgres } from './raw/postgres.js';
import { openRawRedis } from './raw/redis.js';
import { openRawSqlite } from './raw/sqlite.js';
import type { Backend, OpenedStore, StoreLocation, SubjectKind } from './types.js';

/** The subjects measured on `backend` (Keyv has no file adapter). */
export function subjectsFor(backend: Backend): SubjectKind[] {
  return keyvSupports(backend) ? ['library', 'raw', 'keyv'] : ['library', 'raw'];
}

/**
 * The subjects of a write workload on `backend`: also the library with `searchIndex: false`,
 * which keeps no index, like raw and Keyv (the like-for-like comparison).
 */
export function writeSubjectsFor(backend: Backend): SubjectKind[] {
  const [library, ...others] = subjectsFor(backend);
  return [library!, 'libraryUnindexed', ...others];
}

/** Opens `subject`'s store on `backend` at `location` (created empty when new). */
export function openSubject(
  subject: SubjectKind,
  backend: Backend,
  location: StoreLocation,
): Promise<OpenedStore> {
  if (subject === 'library') return openLibrary(backend, location);
  if (subject === 'libraryUnindexed') return openLibrary(backend, location, false);
  if (subject === 'keyv') return openKeyv(backend, location);
  switch (backend) {
    case 'file':
      return openRawFile(location);
    case 'sqlite':
      return openRawSqlite(location);
    case 'redis':
      return openRawRedis(location);
    case 'postgres':
      return openRawPostgres(location);
  }
}

/**
 * Opens one store per subject, runs `fn`, then drops them all (also when `fn` throws).
 * `name` keeps the stores of different workloads apart.
 */
export async function withStores<T>(
  backend: Backend,
  subjects: SubjectKind[],
  location: StoreLocation,
  fn: (stores: Map<SubjectKind, OpenedStore>) => Promise<T>,
): Promise<T> {
  const stores = new Map<SubjectKind, OpenedStore>();
  try {
    for (const subject of subjects) stores.set(subject, await openSubject(subject, backend, location));
    return await fn(stores);
  } finally {
    for (const opened of stores.values()) await opened.drop();
  }
}
