/**
 * The words of a failed file-system call, for messages that name the file themselves. Node's
 * own message repeats the path (often a temp file's, not the record's) after the code and the
 * call: "ENOSPC: no space left on device, open '/x/.y.json.1a2b.tmp'". Pasted after the path a
 * message already names, it read twice as long and named two paths.
 *
 * Errors are recognised by shape, not `instanceof Error`: under a VM context (Jest runs tests
 * in one) Node's own errors come from another realm, fail that check, and their `String()`
 * ("Error: ENOSPC: ...") was pasted in instead.
 */
import { StorageError } from '../core/errors.js';

/** The fields of a Node I/O error this reads. */
interface IoFailure {
  message: string;
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
}

function isFailure(cause: unknown): cause is IoFailure {
  return typeof cause === 'object' && cause !== null && typeof (cause as IoFailure).message === 'string';
}

/**
 * Code, the system's words and the call of a Node I/O error: `ENOSPC, no space left on device
 * (open)`. `withPath`: the call's path too, for a message that names no path of its own
 * (`(open /x/y)`). Any other error (also one of ours, whose `code` is no system code): its
 * message; not an error: its text.
 */
export function ioReason(cause: unknown, withPath = false): string {
  if (!isFailure(cause)) return String(cause);
  if (cause instanceof StorageError) return cause.message;
  const { code, syscall, path } = cause;
  if (typeof code !== 'string') return cause.message;
  let words = cause.message.startsWith(`${code}: `) ? cause.message.slice(code.length + 2) : cause.message;
  if (typeof syscall !== 'string') return `${code}, ${words}`;
  // The first ", <call>" ends the system's words: what follows is the path (and a rename's target).
  const call = words.indexOf(`, ${syscall}`);
  if (call >= 0) words = words.slice(0, call);
  const where = withPath && typeof path === 'string' ? ` ${path}` : '';
  return `${code}, ${words} (${syscall}${where})`;
}
