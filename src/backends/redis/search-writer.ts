/**
 * The client side of the Redis search index: how docs are named (kind letter, owner part, key),
 * how a token becomes a posting key, and what the write paths hand the scripts of
 * `search-lua.ts` for each record (the search flag and the record's spec).
 */
import { createHash } from 'node:crypto';
import type { JsonValue, SearchKind, TextExtractor } from '../../core/index.js';
import { countTokens } from '../../core/index.js';
import { EntryMemo } from '../../core/search/entry-memo.js';

/** Tokens longer than this are indexed (and queried) as a hash, so no key name is huge. */
const MAX_TOKEN_KEY = 64;

/** The owner part of a doc: `<length>:<id>`, so the id may hold any character. */
export function searchOwner(id: string): string {
  return `${id.length}:${id}`;
}

/** Doc kind letters. */
export const KIND_LETTERS: Readonly<Record<SearchKind, string>> = {
  raw_messages: 'r',
  memories: 'm',
  reasoning_chains: 'a',
  conversations: 'v',
  chunk_info: 'k',
};
const KINDS = new Map(Object.entries(KIND_LETTERS).map(([kind, letter]) => [letter, kind as SearchKind]));

/** The doc of a record: kind letter, owner part, and its index, memory id or sequence number. */
export function searchDoc(kind: SearchKind, owner: string, key: string | number = ''): string {
  return `${KIND_LETTERS[kind]}${searchOwner(owner)}${key}`;
}

/** A doc parsed back: kind, owner, and the rest (message index, memory id or sequence number). */
export interface ParsedDoc {
  kind: SearchKind;
  owner: string;
  key: string;
}

/** Parses a doc; `null` for one this library did not write. */
export function parseSearchDoc(doc: string): ParsedDoc | null {
  const kind = KINDS.get(doc[0] ?? '');
  const colon = doc.indexOf(':');
  if (kind === undefined || colon < 2) return null;
  const length = Number(doc.slice(1, colon));
  if (!Number.isSafeInteger(length)) return null;
  return { kind, owner: doc.slice(colon + 1, colon + 1 + length), key: doc.slice(colon + 1 + length) };
}

/** The posting key part of a token: the token, or `#` + its hash when long (`#` is never in a token). */
export function tokenKey(token: string): string {
  if (token.length <= MAX_TOKEN_KEY) return token;
  return `#${createHash('sha1').update(token).digest('hex')}`;
}

/** What the write paths hand their scripts for the index: the flag, and each record's spec. */
export class SearchWriter {
  constructor(
    private readonly extractor: TextExtractor,
    /** False with `searchIndex: false`: scripts mark the bucket stale instead of indexing. */
    readonly enabled: boolean,
  ) {}

  /** The search flag of a searchable write script: `'1'` index, `'0'` mark the bucket stale. */
  get flag(): '1' | '0' {
    return this.enabled ? '1' : '0';
  }

  /**
   * The spec of a record of `kind` (`''` when the index is off): `"<length> <token> <tf> ..."`
   * of its indexed text, each distinct posting token once with its count (tokens hold no white
   * space, so the Lua splits on it).
   */
  spec(kind: SearchKind, record: JsonValue): string {
    return this.enabled ? searchSpec(this.extractor, kind, record) : '';
  }

  /** The search ARGV of a conversation or chunk info write (`WRITE_STRING`): flag, doc, spec. */
  recordArgs(kind: 'conversations' | 'chunk_info', conversationId: string, record: JsonValue): string[] {
    return [this.flag, searchDoc(kind, conversationId), this.spec(kind, record)];
  }

  /** Raw-message specs by JSON text: a list stored again is not tokenized again (see EntryMemo). */
  private readonly rawSpecs = new EntryMemo<string>((spec) => spec.length);

  /**
   * The ARGV of `WRITE_RAW`: conversation id, flag, owner part, n, n JSON texts, n specs (index
   * on). `remember: false` (whole-conversation batches: a migration's or an import's lists, each
   * sent once) tokenizes without the memo, whose look-up and eviction would cost each message
   * more than it could save.
   */
  rawArgs(conversationId: string, messages: readonly JsonValue[], remember = true): Array<string | number> {
    const json = messages.map((message) => JSON.stringify(message));
    const spec = (message: JsonValue): string => this.spec('raw_messages', message);
    const specs = !this.enabled
      ? []
      : remember
        ? messages.map((message, i) => this.rawSpecs.get(json[i] as string, () => spec(message)))
        : messages.map(spec);
    return [conversationId, this.flag, searchOwner(conversationId), messages.length, ...json, ...specs];
  }
}

/** The spec of a record (see {@link SearchWriter.spec}), whatever the flag. */
export function searchSpec(extractor: TextExtractor, kind: SearchKind, record: JsonValue): string {
  const { tokens, counts, length } = countTokens(extractor.extract(kind, record));
  let spec = String(length);
  for (let i = 0; i < tokens.length; i += 1) spec += ` ${tokenKey(tokens[i] as string)} ${counts[i]}`;
  return spec;
}
