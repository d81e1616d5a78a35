/** The Python reference's sample fixture: where it is and the shape of its `expected.json`. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject, JsonValue } from '../../src/core/index.js';

/** Folder of the sample written by the Python reference. */
export const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures', 'python-reference', 'sample');
/** The reference file backend's `storage_data/` tree. */
export const FIXTURE_STORE = path.join(FIXTURE_DIR, 'storage_data');
/** The reference SQLite backend's database. */
export const FIXTURE_DB = path.join(FIXTURE_DIR, 'connectome.db');

/** What one reference backend returned from every load call. */
export interface ReferenceResults {
  list_conversations: string[];
  conversations: Record<string, JsonObject | null>;
  raw_messages: Record<string, JsonValue[]>;
  memories: Record<string, JsonObject[]>;
  chunk_info: Record<string, JsonObject | null>;
  reasoning_chains: Record<string, JsonObject[]>;
  reasoning_chains_last2: Record<string, JsonObject[]>;
  cache: Record<string, JsonObject | null>;
  system_state: Record<string, JsonObject | null>;
  stats: Record<string, number>;
}

/** `expected.json`: what was stored (`inputs`) and what each reference backend loaded back. */
export interface ReferenceExpectations {
  inputs: {
    conversations: Record<string, JsonObject>;
    raw_messages: Record<string, JsonValue[]>;
    memories: Record<string, Array<{ memory_id: string; memory_data: JsonObject }>>;
    chunk_info: Record<string, JsonObject>;
    reasoning_chains: Record<string, JsonObject[]>;
    cache: Array<{ key: string; data: JsonObject; ttl: number | null }>;
    system_state: Record<string, JsonObject>;
  };
  file: ReferenceResults;
  sqlite: ReferenceResults;
}

/** Parsed `expected.json` (a fresh copy on every call). */
export function referenceExpectations(): ReferenceExpectations {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as ReferenceExpectations;
}
