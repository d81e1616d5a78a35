/**
 * How the Redis backend reads a failed call: which server replies mean "not available right
 * now" (a {@link BackendUnavailableError}, worth a retry later), which an ACL refusal (a
 * {@link ConfigError}: the user's grants must change), which corrupt data, and the rest.
 */
import {
  BackendUnavailableError,
  ConfigError,
  type CorruptDataError,
  StorageError,
} from '../../core/index.js';
import { isRangeError } from '../../core/range-error.js';

// Server replies that mean "not available right now" rather than "bad request".
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOAUTH|WRONGPASS)\b/;

/**
 * An ACL refusal: `NOPERM` of a command or key (7.0 names the command, not the key), or a
 * script's refused call (7.0: `ERR The user executing the script can't run this command` /
 * `can't access at least one of the keys`). No retry cures it (until 2026-12-05 it was a
 * BackendUnavailableError, which says "try again later"): the user's grants must change.
 */
const DENIED_REPLY = /\bNOPERM\b|user executing the script can't (run|access)/;

/**
 * What a call in flight when its connection dropped says: sent, so it may have run. One text
 * for reads and writes (the call sites do not say which they are), worded to fit both.
 */
const LOST_REPLY =
  'connection lost before the reply (the call was sent: if it writes, it may or may not have been applied)';

/** What {@link replyErrorToStorageError} needs of the call and its connection. */
export interface ReplyErrorContext {
  /** The error text of the call around the reason (`redis storage (<label>): <call> failed: ...`). */
  text(message: string): string;
  /** The call's error for a `WRONGTYPE` reply. */
  corrupt(message: string): CorruptDataError;
  /** The option that picks the server's user: `url`, or `client` for a given one. */
  credentialsKey: 'url' | 'client';
}

/** Wraps a failed call's error (an ioredis error, a reply, a fault of this process) in a typed one. */
export function replyErrorToStorageError(error: unknown, call: ReplyErrorContext): StorageError {
  if (error instanceof StorageError) return error;
  // ioredis's rejection at a dropped connection (see `maxRetriesPerRequest` in connection.ts) names an option.
  const dropped = error instanceof Error && error.name === 'MaxRetriesPerRequestError';
  const message = dropped ? LOST_REPLY : error instanceof Error ? error.message : String(error);
  const text = call.text(message);
  if (dropped) return new BackendUnavailableError(text, error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && message.startsWith('WRONGTYPE')) return call.corrupt(message);
  // A fault of this process's own (a stack overflow) is no outage: a caller retrying on
  // BackendUnavailableError would only meet it again.
  if (isRangeError(error)) return new StorageError(text, { cause: error });
  if (isReply && DENIED_REPLY.test(message)) {
    return new ConfigError(
      `${text} (the server's ACL denies this user a command or key the store uses: its keys all ` +
        `start with keyPrefix; README, redis, "ACL users", lists the grants)`,
      call.credentialsKey,
      error,
    );
  }
  if (!isReply || UNAVAILABLE_REPLY.test(message)) return new BackendUnavailableError(text, error);
  return new StorageError(text, { cause: error });
}
