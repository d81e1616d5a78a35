/**
 * The ioredis client type the backend works with inside. Kept out of `config.ts`: the package's
 * public declarations must not load ioredis's own, whose index (6.1) imports the untyped
 * `redis-errors` and so fails a user's strict type check with `skipLibCheck: false`.
 */
import type { Cluster, Redis } from 'ioredis';

/** An `ioredis` client: a `Redis` connection or a `Cluster`. */
export type IoredisClient = Redis | Cluster;
