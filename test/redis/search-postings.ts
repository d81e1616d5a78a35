/** Reads the Redis search index's append-only postings (index version 4) the way queries see them. */
import type Redis from 'ioredis';
import { POSTING_BYTES } from '../../src/backends/redis/search-lua.js';
import { keysWithPrefix } from './helpers.js';

/** One posting entry, decoded, with its liveness and (when live) its doc. */
export interface PostingEntry {
  num: number;
  tf: number;
  length: number;
  kind: string;
  live: boolean;
  doc: string | undefined;
}

/** The keys of a token's postings under `prefix` (one per bucket holding it). */
export async function postingKeys(raw: Redis, prefix: string, token: string): Promise<string[]> {
  return (await keysWithPrefix(raw, prefix)).filter((k) => k.endsWith(`}:q:${token}`));
}

/**
 * The entries of one posting string: doc number, tf, length, kind letter, whether the number
 * is live (not in the bucket's `search-gone` bitmap) and its doc (`search-docs`, live docs only).
 */
export async function decodePostings(raw: Redis, key: string): Promise<PostingEntry[]> {
  const base = key.slice(0, key.lastIndexOf('}:q:') + 2);
  const [data, gone, names] = await Promise.all([
    raw.getBuffer(key),
    raw.getBuffer(`${base}search-gone`),
    raw.hgetall(`${base}search-docs`),
  ]);
  const entries: PostingEntry[] = [];
  for (let pos = 0; data !== null && pos + POSTING_BYTES <= data.length; pos += POSTING_BYTES) {
    const num = data.readUInt32LE(pos);
    const alive = gone === null || ((gone[num >> 3] ?? 0) & (128 >> (num & 7))) === 0;
    entries.push({
      num,
      tf: data.readUInt32LE(pos + 4),
      length: data.readUInt32LE(pos + 8),
      kind: String.fromCharCode(data[pos + 12]!),
      live: alive,
      doc: alive ? names[String(num)] : undefined,
    });
  }
  return entries;
}

/** Every entry of a token's postings over all buckets. */
export async function tokenEntries(raw: Redis, prefix: string, token: string): Promise<PostingEntry[]> {
  const keys = await postingKeys(raw, prefix, token);
  return (await Promise.all(keys.map((key) => decodePostings(raw, key)))).flat();
}
