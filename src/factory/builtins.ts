/**
 * The backends this library ships. Adding one is one entry here: its class (which loads
 * its driver lazily), its description, the driver packages to check, its environment
 * variables (see `env.ts`; `REDIS_ENV` and `POSTGRES_ENV` are ready), e.g.
 * `redis: { backend: RedisStorage, description: RedisStorage.description, packages: ['ioredis'], env: REDIS_ENV }`.
 */
import { FileStorage } from '../backends/file/index.js';
import { PostgresStorage } from '../backends/postgres/index.js';
import { RedisStorage } from '../backends/redis/index.js';
import { SQLITE_PACKAGES, SQLiteStorage } from '../backends/sqlite/index.js';
import { FILE_ENV, POSTGRES_ENV, REDIS_ENV, SQLITE_ENV } from './env.js';
import type { BackendDefinition } from './types.js';

/** Built-in backends by name, in the order they are listed. */
export const BUILTIN_BACKENDS: Readonly<Record<string, BackendDefinition>> = {
  file: { backend: FileStorage, description: FileStorage.description, packages: [], env: FILE_ENV },
  sqlite: {
    backend: SQLiteStorage,
    description: SQLiteStorage.description,
    packages: SQLITE_PACKAGES.split(' '),
    env: SQLITE_ENV,
  },
  redis: {
    backend: RedisStorage,
    description: RedisStorage.description,
    packages: ['ioredis'],
    env: REDIS_ENV,
  },
  postgres: {
    backend: PostgresStorage,
    description: PostgresStorage.description,
    packages: ['pg'],
    env: POSTGRES_ENV,
  },
};
