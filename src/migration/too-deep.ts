/**
 * Source records nested deeper than every write accepts (`MAX_JSON_DEPTH`), which another
 * program may have left in a store: the library reads them (its reads do not recurse per
 * level) but refuses to write them, so such a record cannot be written to the target. Like an
 * id the id rule refuses (`screen.ts`), it is not the source's corruption (it parses, and the
 * source's own loads return it): it is screened out before the write, reported as a conflict
 * naming it, and the rest is copied. Until 2026-12-04 the write's `ValidationError` failed
 * the whole run, and every later run, at the same record.
 */
import { type JsonObject, MAX_JSON_DEPTH } from '../core/json.js';
import { exceedsMaxJsonDepth } from '../core/json-depth.js';
import type { BoundedList } from './bounded.js';
import type { ConversationParts } from './memories.js';
import type { MigrationConflict } from './types.js';

/** The reason a conflict gives for such a record. */
export const TOO_DEEP = `nested deeper than the limit of ${MAX_JSON_DEPTH} levels that writes accept`;

/**
 * A conversation's parts with its conversation, raw messages or chunk info left out (`null`,
 * `[]`) when nested too deep, each such one a conflict naming the conversation id and what was
 * left out. Its memories are screened one by one (`screenMemories`).
 */
export function withoutTooDeepParts(
  id: string,
  parts: ConversationParts,
  conflicts: BoundedList<MigrationConflict>,
): ConversationParts {
  const [conversation, messages, memories, chunk] = parts;
  const refuse = (kind: MigrationConflict['kind'], what: string): void =>
    conflicts.add({ kind, id, message: `the source's ${what} is ${TOO_DEEP}; not copied` });
  const keep = <T extends JsonObject | null>(value: T, kind: MigrationConflict['kind'], what: string) => {
    if (value === null || !exceedsMaxJsonDepth(value)) return value;
    refuse(kind, what);
    return null;
  };
  let keptMessages = messages;
  if (messages.length > 0 && exceedsMaxJsonDepth(messages)) {
    refuse('raw_messages', `raw message list (${messages.length} message(s))`);
    keptMessages = [];
  }
  return [
    keep(conversation, 'conversations', 'conversation'),
    keptMessages,
    memories,
    keep(chunk, 'chunk_info', 'chunk info'),
  ];
}
