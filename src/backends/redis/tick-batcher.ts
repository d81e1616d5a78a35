/**
 * Batches the commands a storage's own client sends in one tick into one socket write, as
 * ioredis's auto-pipelining does, but by corking the socket instead of queueing the commands
 * in a pipeline: ioredis writes each command to the corked socket as it is called, and the
 * socket sends them all when the tick's `process.nextTick` uncorks it. Commands, replies and
 * their order are exactly those of a plain client; only the number of writes changes.
 */
import type { Redis } from 'ioredis';

type Socket = Redis['stream'];

/** Uncorks `socket` (the one corked, even if the client has since reconnected on another). */
function release(batcher: TickBatcher, socket: Socket): void {
  batcher.holding = false;
  socket.uncork();
}

/** Holds a client's socket corked until the end of the current tick. */
export class TickBatcher {
  /** True while the socket is corked and its release is scheduled. */
  holding = false;

  constructor(private readonly client: Redis) {}

  /** Corks the socket until the end of this tick (once per tick); commands called meanwhile go out together. */
  hold(): void {
    if (this.holding) return;
    const socket = this.client.stream as Socket | undefined;
    // No socket yet (never connected) or one that cannot take writes: nothing to batch.
    if (socket === undefined || !socket.writable) return;
    this.holding = true;
    socket.cork();
    process.nextTick(release, this, socket);
  }
}
