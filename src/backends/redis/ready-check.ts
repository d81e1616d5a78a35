/**
 * The ready check of a client this storage opens, run by the store in place of ioredis's own
 * at the first connect. ioredis's asks `INFO` at each connect and, while the server loads its
 * data (`loading:1`, after a restart), waits, so no call meets a `LOADING` reply. But when the
 * user's ACL denies `INFO` it skips the check with a `console.warn` of its own at every connect
 * (behind the store's `logger`), and when `INFO` is renamed away its check fails and the client
 * never becomes ready. So the client starts without it; this check runs once at the open, and
 * turns ioredis's on for the reconnects only where `INFO` answers.
 */
import type { Redis } from 'ioredis';
import { logEvent, type StorageLogger } from '../../core/index.js';

/** Pause between two `INFO` while the server loads (ioredis waits for the server's ETA, up to 10 s). */
const LOADING_POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the server behind `client` (connected, without ioredis's ready check) has loaded
 * its data, then turns ioredis's check on for reconnects. When the server refuses `INFO` (an
 * ACL's `NOPERM`, or a renamed command), logs that once at `info` and leaves the check off: a
 * call during a later load then fails at once with a `BackendUnavailableError` (`LOADING`),
 * as it did with ioredis's skipped check. Rejects when `INFO` gets no reply (the open fails).
 */
export async function runReadyCheck(
  client: Redis,
  label: string,
  logger: StorageLogger | undefined,
): Promise<void> {
  for (;;) {
    let info: string;
    try {
      info = await client.info('persistence');
    } catch (error) {
      if ((error as Error).name !== 'ReplyError') throw error;
      const reply = (error as Error).message;
      logEvent(
        logger,
        'info',
        `redis storage: ${label} refuses INFO, so the client runs no ready check: after a server ` +
          `restart, calls fail with BackendUnavailableError (LOADING) until its data is loaded, ` +
          `instead of waiting`,
        { reply },
      );
      return;
    }
    if (!/^loading:1\b/m.test(info)) break;
    await sleep(LOADING_POLL_MS);
  }
  // Read by ioredis at each connect: the reconnects wait out a load as before.
  client.options.enableReadyCheck = true;
}
