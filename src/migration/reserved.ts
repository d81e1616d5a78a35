/**
 * Source records that carry a top-level field the storage format reserves
 * (`_storage_metadata` in a conversation, `_metadata` in chunk info). The Python file backend
 * hands those back on load, so a Python user may have stored them in another backend; every
 * backend here refuses them, so the migration copies such a record without the field, with a
 * warning, instead of failing.
 */
import {
  CHUNK_INFO_METADATA_FIELD,
  CONVERSATION_METADATA_FIELD,
  withoutReservedField,
} from '../core/reserved-fields.js';
import type { BoundedList } from './bounded.js';
import type { ConversationParts } from './memories.js';
import { quoteName } from '../core/shown-text.js';

/**
 * `parts` without the reserved top-level fields; each one removed is reported in `warnings`
 * (the copy) or silently (verification, which compares against what the copy wrote).
 */
export function withoutReservedFields(
  id: string,
  parts: ConversationParts,
  warnings?: BoundedList<string>,
): ConversationParts {
  const [conversation, messages, memories, chunk] = parts;
  const strippedConversation =
    conversation && withoutReservedField(conversation, CONVERSATION_METADATA_FIELD);
  const strippedChunk = chunk && withoutReservedField(chunk, CHUNK_INFO_METADATA_FIELD);
  const warn = (what: string, field: string) =>
    warnings?.add(
      `conversation ${quoteName(id)}: the source's ${what} has its own top-level "${field}", which the ` +
        'storage format reserves; copied without it',
    );
  if (strippedConversation) warn('conversation', CONVERSATION_METADATA_FIELD);
  if (strippedChunk) warn('chunk info', CHUNK_INFO_METADATA_FIELD);
  return [strippedConversation ?? conversation, messages, memories, strippedChunk ?? chunk];
}
