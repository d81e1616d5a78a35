/**
 * The search columns of one record, as the PostgreSQL search index stores them: its tokens as
 * `tsvector` input text (one lexeme per distinct token, one position per occurrence) and its
 * length in tokens. Pure string building, shared by every write path and by the query
 * builder (which spells lexemes the same way); reading and rebuilding the index is
 * `search-index.ts`.
 */
import { createHash } from 'node:crypto';
import { countTokens, type JsonValue, type SearchKind, type TextExtractor } from '../../core/index.js';

/** Positions PostgreSQL keeps per lexeme: a term frequency above it counts as this. */
const MAX_POSITIONS = 256;
/** Longest lexeme kept as is (PostgreSQL refuses lexemes over 2,047 bytes); longer ones are hashed. */
const MAX_LEXEME_BYTES = 1000;
/**
 * Most bytes of lexemes and positions one row's `tsvector` holds (PostgreSQL's limit is
 * 1 MiB): the words of a record past it are not indexed.
 */
const MAX_VECTOR_BYTES = 900_000;

/**
 * The lexeme a token is stored and searched as: the token itself, or for a token too long
 * for a lexeme `#` and its SHA-256 (a token never contains `#`, so no token collides with it).
 */
export function lexemeOf(token: string): string {
  if (Buffer.byteLength(token) <= MAX_LEXEME_BYTES) return token;
  return `#${createHash('sha256').update(token).digest('hex')}`;
}

/** A lexeme quoted for the `tsvector` / `tsquery` input syntax. */
export function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** The index columns of one record: `tsvector` text and length in tokens (both `null`: not indexed). */
export type SearchColumns = [tokens: string | null, length: number | null];

/**
 * The index columns of many records as the two JSON array parameters the schema's functions
 * take (tokens, lengths; schema-v6.ts). `null` (the index is off): two empty arrays, which the
 * functions read as `NULL` columns for every record.
 */
export function searchColumnArrays(columns: readonly SearchColumns[] | null): [string, string] {
  if (columns === null) return ['[]', '[]'];
  return [
    JSON.stringify(columns.map(([tokens]) => tokens)),
    JSON.stringify(columns.map(([, length]) => length)),
  ];
}

/** A token at most this long (UTF-16 units) is at most 999 UTF-8 bytes: its own lexeme, no length check. */
const SHORT_TOKEN = Math.floor(MAX_LEXEME_BYTES / 3);

/** `':1`, `':1,2`, `':1,2,3`, ... by count: a lexeme's closing quote and position list, built once. */
const POSITION_LISTS: readonly string[] = (() => {
  const lists = [''];
  for (let n = 1; n <= MAX_POSITIONS; n += 1) lists.push(n === 1 ? "':1" : `${lists[n - 1]},${n}`);
  return lists;
})();

/**
 * The index columns of a record of `kind`: its indexed text (per the extractor) split by the
 * core tokenizer. Every write path (single, batch, migration) calls it per record, so it
 * avoids per-token work beyond counting: a token is never quoted (token characters exclude
 * `'` and `\`; checked anyway), and only lexemes that may be too long are measured in bytes.
 */
export function searchColumns(extractor: TextExtractor, kind: SearchKind, record: JsonValue): SearchColumns {
  const { tokens, counts, length } = countTokens(extractor.extract(kind, record));
  // A UTF-8 byte is at most 3 per UTF-16 unit: bytes are counted exactly only if the bound passes the limit.
  let bound = 0;
  for (let i = 0; i < tokens.length; i += 1)
    bound += (tokens[i] as string).length * 3 + 8 + 2 * Math.min(counts[i] as number, MAX_POSITIONS);
  const exact = bound > MAX_VECTOR_BYTES;
  // Pieces joined once (`'a':1 'b':1,2`): no intermediate string per lexeme.
  const pieces: string[] = [];
  let bytes = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as string;
    const lexeme = token.length <= SHORT_TOKEN ? token : lexemeOf(token);
    const positions = Math.min(counts[i] as number, MAX_POSITIONS);
    if (exact) {
      bytes += Buffer.byteLength(lexeme) + 8 + 2 * positions;
      if (bytes > MAX_VECTOR_BYTES) break;
    }
    const quoted = lexeme.includes("'") || lexeme.includes('\\') ? quoteLexeme(lexeme).slice(1, -1) : lexeme;
    pieces.push(i === 0 ? "'" : " '", quoted, POSITION_LISTS[positions] as string);
  }
  return [pieces.join(''), length];
}
