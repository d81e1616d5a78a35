/** Records of the SQLite search index's base rows, as search candidates. */
import {
  type JsonValue,
  parseStoredJson,
  parseStoredJsonObject,
  type SearchCandidate,
  type SearchKind,
} from '../../core/index.js';
import { chainFromRow, memoryFromRow } from './rows.js';
import type { BaseRow } from './search-sql.js';

/** The id a skipped row is logged with: message index, memory id or chain sequence (none for a whole object). */
export function rowRecordId(kind: SearchKind, row: BaseRow): string | number | undefined {
  switch (kind) {
    case 'raw_messages':
      return row.position;
    case 'memories':
      return row.memory_id ?? '';
    case 'reasoning_chains':
      return row.base;
    default:
      return undefined;
  }
}

/** The candidate (score 0) a base row stands for. */
export function toCandidate(kind: SearchKind, row: BaseRow): SearchCandidate {
  const where = `${kind} row ${row.base}`;
  switch (kind) {
    case 'raw_messages':
      return {
        kind,
        conversationId: row.scope,
        messageIndex: row.position,
        record: parseStoredJson(row.data, where) as JsonValue,
        bm25: 0,
      };
    case 'memories': {
      const record = memoryFromRow(
        {
          memory_id: row.memory_id ?? '',
          memory_data: row.memory_data ?? '',
          created_at: row.created_at ?? '',
        },
        row.scope,
      );
      return { kind, conversationId: row.scope, memoryId: row.memory_id ?? '', record, bm25: 0 };
    }
    case 'reasoning_chains': {
      const record = chainFromRow(
        { id: row.base, chain_data: row.chain_data ?? '', created_at: row.created_at ?? '' },
        row.scope,
      );
      // The row id is the chain's sequence number (see chains.ts).
      return { kind, agentId: row.scope, chainIndex: row.position, sequence: row.base, record, bm25: 0 };
    }
    case 'conversations':
    case 'chunk_info':
      return { kind, conversationId: row.scope, record: parseStoredJsonObject(row.data, where), bm25: 0 };
  }
}
