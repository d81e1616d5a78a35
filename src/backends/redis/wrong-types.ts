/**
 * Naming the key of a failed call's `WRONGTYPE`. The server's text names no key, and a script
 * that read several keys does not say which one failed, so the client asks their types, only
 * after the call failed: a good call pays no check.
 */
import { CorruptDataError } from '../../core/index.js';
import type { ValueName } from '../../core/shown-text.js';
import type { RedisConnection } from './connection.js';

/** A key a call reads, and the Redis type the library keeps there. */
export type TypedKey = readonly [key: string, type: string];

/**
 * The keys of `expected` that hold another type than theirs (an absent key holds none), each
 * with the {@link CorruptDataError} of call `what` naming it (`cause`: the call's error).
 * One `TYPE` call per distinct key, all sent at once.
 */
export async function wrongTypedKeys(
  redis: RedisConnection,
  what: ValueName,
  expected: readonly TypedKey[],
  cause: unknown,
): Promise<Map<string, CorruptDataError>> {
  const distinct = [...new Map(expected.map(([key, type]) => [key, type]))];
  const found = await Promise.all(distinct.map(([key]) => redis.run(what, (c) => c.type(key))));
  const wrong = new Map<string, CorruptDataError>();
  distinct.forEach(([key, type], i) => {
    const held = found[i]!;
    if (held !== 'none' && held !== type) {
      wrong.set(key, redis.corrupt(what, `${key} is a ${held}, expected a ${type}`, cause));
    }
  });
  return wrong;
}

/**
 * Rethrows `error` of call `what`, which read the `expected` keys: a `WRONGTYPE` (a
 * {@link CorruptDataError} naming no key) as one naming the first of them of another type
 * (as it was when none is: the key changed since).
 */
export async function nameWrongType(
  redis: RedisConnection,
  what: ValueName,
  expected: readonly TypedKey[],
  error: unknown,
): Promise<never> {
  if (!(error instanceof CorruptDataError)) throw error;
  const wrong = await wrongTypedKeys(redis, what, expected, error);
  throw wrong.values().next().value ?? error;
}
