/**
 * The ioredis client a store opens for itself (from `url`): `ioredis` loaded on first use, and
 * the options the store's guarantees rest on (no offline queue, no resend, failing at a drop,
 * the store's own batching of each tick's commands).
 */
import type { Redis } from 'ioredis';
import { BackendUnavailableError } from '../../core/index.js';
import { DISCONNECT_TIMEOUT_MS } from './client-close.js';
import type { ResolvedRedisConfig } from './config.js';

type RedisClass = typeof Redis;

/** Loads `ioredis` on first use, so the library loads without it. */
async function loadIoredis(): Promise<RedisClass> {
  try {
    const mod = await import('ioredis');
    return mod.default;
  } catch (error) {
    throw new BackendUnavailableError(
      'The redis storage backend needs the "ioredis" package: npm install ioredis',
      error,
    );
  }
}

/** A new client for `config.url`, not yet connected (`lazyConnect`). */
export async function newOwnClient(config: ResolvedRedisConfig): Promise<Redis> {
  const RedisCtor = await loadIoredis();
  return new RedisCtor(config.url, {
    lazyConnect: true,
    connectTimeout: config.connectTimeout,
    commandTimeout: config.commandTimeout,
    // No offline queue: a command queued while the connection is down stays queued after
    // its timeout rejected the call, and is sent on reconnect, so a write reported as
    // failed would land later, half done (its data without its index entry). Calls wait
    // for the connection in `run()` instead and give up before anything is sent.
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails instead of being resent later.
    autoResendUnfulfilledCommands: false,
    // ...and fails at the drop: without this, ioredis drops such commands unsettled at the
    // reconnect, and each call waited out its whole commandTimeout (10 s by default) to fail
    // with "Command timed out" while the server was back in milliseconds.
    maxRetriesPerRequest: 0,
    // Commands go out at the end of their tick, batched by corking the socket (see
    // `TickBatcher`): the same one write per tick as auto-pipelining, without its pipeline
    // object, setImmediate hop and per-reply nextTick, which cost more client CPU per
    // command than the rest of a cache call.
    enableAutoPipelining: false,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    connectionName: 'connectome-storage',
    // Ours at the open instead (`ready-check.ts`): ioredis's warns on the console if INFO is denied.
    enableReadyCheck: false,
    // How long a closing socket may linger (the driver's default keeps a process alive 2 s).
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
}
