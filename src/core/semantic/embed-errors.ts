/**
 * Embedder failures as the storage reports them: an `EmbedderError` from a store's write,
 * `reindex()` or search names the record (or query) whose text was being embedded, as every
 * other write error names its record. The embedder itself only knows texts and positions.
 */
import { EmbedderError } from '../../semantic/errors.js';
import { recordText } from '../record-names.js';
import type { VectorRef } from './vector-ids.js';
import { quoteName } from '../shown-text.js';

const q = quoteName;

/** What a record is called in an embedder error: `memory "m" of conversation "c"`, `raw message 2 of conversation "c"`, ... */
export function describeRef(ref: VectorRef): string {
  switch (ref.kind) {
    case 'memories':
      return recordText.memory(ref.conversationId, ref.memoryId);
    case 'raw_messages':
      return `raw message ${ref.messageIndex} of conversation ${q(ref.conversationId)}`;
    case 'reasoning_chains':
      return `reasoning chain ${ref.sequence} of agent ${q(ref.agentId)}`;
  }
}

/**
 * `error` again, its message naming what was embedded: the text at `error.index` when one
 * vector was wrong (its size, a value, all zeros), else the texts of the failed request when
 * the embedder split the call (`error.texts`), else the call's texts (`count` of them, from
 * `first` on). `name(i)` names the `i`-th text of the call; `first` is the call's first text
 * among those `name` knows. The failure, status and attempts stay; the original (with its
 * `index` in the embedder's call) is the `cause`.
 */
export function namedEmbedderError(
  error: EmbedderError,
  first: number,
  count: number,
  name: (index: number) => string,
): EmbedderError {
  const prefix = `Embedder ${error.embedderId}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  // An index from an embedder of your own may be anything: only one within the call names a text.
  const index =
    error.index !== undefined && Number.isInteger(error.index) && error.index >= 0 && error.index < count
      ? error.index
      : undefined;
  // A failed request of a call the embedder split: its own texts (one within the call).
  const sent = error.texts;
  const request =
    index === undefined &&
    sent !== undefined &&
    Number.isInteger(sent.start) &&
    Number.isInteger(sent.count) &&
    sent.start >= 0 &&
    sent.count >= 1 &&
    sent.start + sent.count <= count
      ? sent
      : { start: 0, count };
  const what =
    index !== undefined
      ? name(first + index)
      : request.count === 1
        ? name(first + request.start)
        : `${request.count} texts, the first ${name(first + request.start)}`;
  return new EmbedderError(error.embedderId, error.failure, `embedding ${what}: ${detail}`, {
    cause: error,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.attempts === undefined ? {} : { attempts: error.attempts }),
  });
}
