/**
 * How records map to vectors: which kinds are embedded, the vector id of each record, and the
 * text that is embedded. `/` separates the parts of a vector id; an id holding a `/` or a `\`
 * (which `validateId` refuses, but a store the reference wrote may hold) is escaped, so the id of
 * every record the id rule allows is unchanged and stays within the vector stores' 512-byte limit.
 */
import type { JsonObject, JsonValue } from '../json.js';
import type { TextExtractor } from '../search/fields.js';
import type { SearchKind } from '../search/query.js';

/** The kinds that get vectors (stored in the vector store under these kind names). */
export const EMBEDDED_KINDS = ['raw_messages', 'memories', 'reasoning_chains'] as const;

/** One embedded kind. */
export type EmbeddedKind = (typeof EMBEDDED_KINDS)[number];

/** Which record a vector belongs to. Chains by their stable sequence number, never by position. */
export type VectorRef =
  | { kind: 'raw_messages'; conversationId: string; messageIndex: number }
  | { kind: 'memories'; conversationId: string; memoryId: string }
  | { kind: 'reasoning_chains'; agentId: string; sequence: number };

/** True for a kind that gets vectors. */
export function isEmbeddedKind(kind: SearchKind): kind is EmbeddedKind {
  return (EMBEDDED_KINDS as readonly string[]).includes(kind);
}

/**
 * A part of a vector id: `\` as `\\` and `/` as `\s`, so `/` separates the parts whatever the
 * ids hold. The id rule refuses both characters, so every id it allows is its own part, and the
 * vector ids written before this escaping (2026-12-03) read back as they did; only ids a
 * store the Python reference wrote may hold (a memory `notes/2025`) are escaped.
 */
export function idPart(id: string): string {
  return id.includes('/') || id.includes('\\')
    ? id.replace(/[\\/]/g, (c) => (c === '/' ? '\\s' : '\\\\'))
    : id;
}

/** The id a part of a vector id holds ({@link idPart} undone; any other `\` is kept as it is). */
function fromPart(part: string): string {
  return part.includes('\\') ? part.replace(/\\([\\s])/g, (_, c: string) => (c === 's' ? '/' : '\\')) : part;
}

/**
 * The vector id of a record: `conversationId/memoryId` for a memory (two parts, so two full-size
 * ids still fit in 512 bytes), `r/conversationId/index` for a raw message, `c/agentId/sequence`
 * for a reasoning chain; each id escaped by {@link idPart}, so a memory `x/1` of `c` is `c/x\s1`
 * (not chain 1 of agent `x`).
 */
export function vectorIdOf(ref: VectorRef): string {
  switch (ref.kind) {
    case 'memories':
      return `${idPart(ref.conversationId)}/${idPart(ref.memoryId)}`;
    case 'raw_messages':
      return `r/${idPart(ref.conversationId)}/${ref.messageIndex}`;
    case 'reasoning_chains':
      return `c/${idPart(ref.agentId)}/${ref.sequence}`;
  }
}

/** The record a vector id names, or `null` for an id this library did not write. */
export function parseVectorId(id: string): VectorRef | null {
  const parts = id.split('/');
  if (parts.length === 2) {
    return { kind: 'memories', conversationId: fromPart(parts[0]!), memoryId: fromPart(parts[1]!) };
  }
  if (parts.length !== 3 || !/^\d+$/.test(parts[2]!)) return null;
  const number = Number(parts[2]);
  const owner = fromPart(parts[1]!);
  if (parts[0] === 'r') return { kind: 'raw_messages', conversationId: owner, messageIndex: number };
  if (parts[0] === 'c') return { kind: 'reasoning_chains', agentId: owner, sequence: number };
  return null;
}

/** Fields the store adds to records; they are left out of the embedded text (timestamps carry no meaning). */
const BOOKKEEPING: Partial<Record<EmbeddedKind, string>> = {
  memories: 'created_at',
  reasoning_chains: 'stored_at',
};

/**
 * The text embedded for a record: the strings full-text search indexes (`searchFields`
 * applied), one per line, minus the timestamp the store adds (`created_at` of memories,
 * `stored_at` of chains). Empty when the record has no text (it then gets no vector).
 */
export function embeddedText(extractor: TextExtractor, kind: EmbeddedKind, record: JsonValue): string {
  const field = BOOKKEEPING[kind];
  let value = record;
  if (field !== undefined && typeof record === 'object' && record !== null && !Array.isArray(record)) {
    const copy: JsonObject = { ...record };
    delete copy[field];
    value = copy;
  }
  const text = extractor.extract(kind, value).join('\n');
  return text.trim() === '' ? '' : text;
}
