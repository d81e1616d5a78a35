/**
 * The size bound of a list file (a conversation's memories or raw messages, an agent's
 * reasoning chains): a write that would make one longer than `MAX_JSON_BYTES` is refused before
 * any I/O. Such a file grows by many small accepted writes, each under the limit of one value,
 * and is read back whole as one string: until 2026-12-06 one past ~512 MiB was written, and
 * every later read or write of it failed ("not valid UTF-8").
 */
import { isJsonObject, type JsonObject, jsonByteLimit, ValidationError } from '../../core/index.js';
import { quoteName } from '../../core/shown-text.js';

/** What each list field holds, and whose it is (the envelope's `_metadata` names the owner). */
const OWNERS: Readonly<Record<string, readonly [what: string, kind: string, idField: string]>> = {
  memories: ['memories', 'conversation', 'conversation_id'],
  messages: ['raw messages', 'conversation', 'conversation_id'],
  chains: ['reasoning chains', 'agent', 'agent_id'],
};

/**
 * Throws a {@link ValidationError} naming the conversation or agent when `bytes`, the length
 * of the list file `file` about to be written from `envelope` (list in `field`), passes the limit.
 */
export function refuseLargeList(file: string, envelope: JsonObject, field: string, bytes: number): void {
  const limit = jsonByteLimit();
  if (bytes <= limit) return;
  const [what, kind, idField] = OWNERS[field] ?? [field, 'owner', ''];
  const metadata = envelope._metadata;
  const id = isJsonObject(metadata) ? metadata[idField] : undefined;
  const owner = typeof id === 'string' ? `${kind} ${quoteName(id)}` : file;
  throw new ValidationError(
    `${what} of ${owner}`,
    `would make ${file} ${bytes} bytes, over the limit of ${limit} (MAX_JSON_BYTES) of one list ` +
      'file, which is read back whole; nothing was written (delete some first)',
  );
}
