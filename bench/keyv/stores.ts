/**
 * Keyv 5 on each backend that has an official adapter (`@keyv/sqlite`, `@keyv/redis`,
 * `@keyv/postgres`), with their defaults except `iterationLimit` 1000 (listing 10,000 keys ten
 * at a time would measure the default page size, not Keyv). There is no file adapter among them.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import KeyvPostgres from '@keyv/postgres';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { dropSchema } from '../cleanup.js';
import { config } from '../config.js';
import type { Backend, StoreLocation } from '../types.js';

/** A Keyv instance and how to remove everything it wrote. */
export interface KeyvHandle {
  keyv: Keyv;
  /** Closes the connections (again: no-op). */
  close(): Promise<void>;
  drop(): Promise<void>;
}

/** `keyv.disconnect` once: the SQLite adapter throws when closed twice. */
function closer(keyv: Keyv): () => Promise<void> {
  let closed = false;
  return async () => {
    if (!closed) await keyv.disconnect();
    closed = true;
  };
}

/** Backends Keyv runs on here. */
export const keyvSupports = (backend: Backend): boolean => backend !== 'file';

/** A Keyv for `backend` at `location`, namespaced by the location's name. */
export function createKeyvStore(backend: Backend, location: StoreLocation): KeyvHandle {
  const namespace = `bench-${location.name}`;
  switch (backend) {
    case 'sqlite': {
      const path = join(location.dir, `${location.name}-keyv.db`);
      const keyv = new Keyv({
        store: new KeyvSqlite({ uri: `sqlite://${path}`, iterationLimit: 1000 }),
        namespace,
      });
      const close = closer(keyv);
      return {
        keyv,
        close,
        drop: async () => {
          await close();
          await rm(path, { force: true });
        },
      };
    }
    case 'redis': {
      const keyv = new Keyv({ store: new KeyvRedis(config.redisUrl), namespace });
      const close = closer(keyv);
      return {
        keyv,
        close,
        drop: async () => {
          // Closed by the workload already: reconnect to clear the namespace.
          const cleaner = new Keyv({ store: new KeyvRedis(config.redisUrl), namespace });
          await cleaner.clear();
          await cleaner.disconnect();
          await close();
        },
      };
    }
    case 'postgres': {
      const schema = `bench_${location.name}_keyv`;
      const store = new KeyvPostgres({ uri: config.postgresUrl, schema, iterationLimit: 1000 });
      const keyv = new Keyv({ store, namespace });
      const close = closer(keyv);
      return {
        keyv,
        close,
        drop: async () => {
          await close();
          await dropSchema(schema);
        },
      };
    }
    case 'file':
      throw new Error('Keyv 5 has no official file adapter');
  }
}
