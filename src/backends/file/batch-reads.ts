/**
 * `loadConversationBatch` on the file backend: a conversation's four files read with
 * synchronous reads, a few ids at a time. An asynchronous `fs.readFile` of a small file costs
 * four thread-pool round trips (open, stat, read, close) and about 3x the CPU of a
 * synchronous read of a page-cached file (measured: ~55 vs ~18 µs per file); a batch reads
 * hundreds of them. The event loop is handed back after every {@link IDS_PER_TURN} ids or 10
 * ms (`loop-turns.ts`), whichever comes first. Errors and parsing are those of the
 * single reads (`readJsonFile` in `json-reads.ts`, the envelopes of `folder-reads.ts`).
 */
import { type JsonValue, type StoredConversation } from '../../core/index.js';
import { readJsonFileSync } from './json-reads.js';
import { parseListEnvelope, parseWrappedObject } from './envelopes.js';
import type { StoreLayout } from './layout.js';
import { LoopTurns } from './loop-turns.js';

/** Ids read per turn of the event loop (4 files each). */
const IDS_PER_TURN = 16;

function readConversationFiles(layout: StoreLayout, id: string): StoredConversation {
  const read = <T>(
    kind: Parameters<StoreLayout['conversationFile']>[1],
    parse: (f: string, v: JsonValue) => T,
  ) => {
    const file = layout.conversationFile(id, kind);
    const value = readJsonFileSync(file);
    return value === undefined ? null : parse(file, value);
  };
  return {
    conversationId: id,
    conversation: read('conversation', (f, v) => parseWrappedObject(f, v, '_storage_metadata')),
    rawMessages: read('rawMessages', (f, v) => parseListEnvelope(f, v, 'messages', false)) ?? [],
    memories: read('memories', (f, v) => parseListEnvelope(f, v, 'memories', true)) ?? [],
    chunkInfo: read('chunks', (f, v) => parseWrappedObject(f, v, '_metadata')),
  };
}

/**
 * Reads `ids` (validated, possibly repeated), results aligned with `ids`. Only for a store
 * whose folder does not fold names (no twin folders to rule out; the caller checks).
 */
export async function readFileConversationBatch(
  layout: StoreLayout,
  ids: readonly string[],
): Promise<StoredConversation[]> {
  const out: StoredConversation[] = [];
  const turns = new LoopTurns(IDS_PER_TURN);
  for (const id of ids) {
    await turns.step();
    out.push(readConversationFiles(layout, id));
  }
  return out;
}
