/**
 * Sends the commands a storage's own client is asked for in one tick together, at the end of
 * the tick, in one socket write, as ioredis's auto-pipelining does, but by corking the socket
 * instead of queueing the commands in a pipeline: at the tick's `process.nextTick` the calls
 * are made in the order they came, into the corked socket, which then sends them all. Commands,
 * replies and their order are exactly those of a plain client; only the number of writes
 * changes, and when each command is made: ioredis starts a command's `commandTimeout` when it
 * is made, so a command made at the start of a long synchronous stretch (a burst of 20,000
 * calls made in one loop takes seconds) timed out before its reply, read only after the
 * stretch, could be (every call of such a burst failed with a 2 s timeout, each written). Made
 * at the tick's end, a command's timeout counts from its sending.
 */
import type { Redis } from 'ioredis';

/** One call waiting for the end of its tick. */
interface Deferred {
  call(client: Redis): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Makes the tick's calls into the corked socket, in order, and uncorks it. */
function flush(batcher: TickBatcher): void {
  const calls = batcher.pending;
  batcher.pending = [];
  batcher.onFlush?.();
  const client = batcher.client;
  const socket = client.stream as Redis['stream'] | undefined;
  // No socket that can take writes (never connected, closing): the calls go as they are.
  const corked = socket !== undefined && socket.writable;
  if (corked) socket.cork();
  for (const deferred of calls) {
    try {
      deferred.call(client).then(deferred.resolve, deferred.reject);
    } catch (error) {
      deferred.reject(error);
    }
  }
  if (corked) socket.uncork();
}

/** Sends a client's calls of one tick together at the tick's end. */
export class TickBatcher {
  /** The calls of this tick, in the order they came (read by `flush`). */
  pending: Deferred[] = [];

  /** @param onFlush called at each tick's end, before its calls are made. */
  constructor(
    readonly client: Redis,
    readonly onFlush?: () => void,
  ) {}

  /** Makes `call` at the end of this tick with the tick's other calls (one socket write); its reply. */
  send<T>(call: (client: Redis) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.push({ call, resolve: resolve as (value: unknown) => void, reject }) === 1) {
        process.nextTick(flush, this);
      }
    });
  }
}
