/**
 * The data files the file backend's search index covers: which file holds which kind, the
 * files in a query's scope, their identities (a cheap `stat` each), and reads that return
 * the records together with the identity of the file they came from.
 */
import fs, { type BigIntStats } from 'node:fs';
import path from 'node:path';
import type { JsonValue, SearchKind } from '../../core/index.js';
import { type FileIdentity, identityOf, ioError, readdirOrEmpty } from './atomic-json.js';
import { jsonFromBytes, missingOrThrow } from './json-reads.js';
import { type BytesAndStat, readFileAndStatSync } from './fd-io.js';
import { parseListEnvelope, parseWrappedObject } from './envelopes.js';
import { CHAINS_FILE, CONVERSATION_FILES, type StoreLayout } from './layout.js';
import { LoopTurns } from './loop-turns.js';

/** The data file of each kind, inside its conversation's or agent's folder. */
export const SOURCE_FILES: Readonly<Record<SearchKind, string>> = {
  raw_messages: CONVERSATION_FILES.rawMessages,
  memories: CONVERSATION_FILES.memories,
  reasoning_chains: CHAINS_FILE,
  conversations: CONVERSATION_FILES.conversation,
  chunk_info: CONVERSATION_FILES.chunks,
};

/** One data file the index covers: its kind, its folder's name and its path. */
export interface SourceRef {
  kind: SearchKind;
  owner: string;
  file: string;
}

/** Stats taken in one go before yielding to other work (each is a metadata lookup of microseconds). */
const STAT_CHUNK = 256;

/** Which kind and folder `file` belongs to, or `null` for a file the index does not cover. */
export function sourceOf(layout: StoreLayout, file: string): SourceRef | null {
  const dir = path.dirname(file);
  const parent = path.dirname(dir);
  const name = path.basename(file);
  const owner = path.basename(dir);
  const kinds = Object.entries(SOURCE_FILES) as Array<[SearchKind, string]>;
  const kind = kinds.find(
    ([k, f]) => f === name && (k === 'reasoning_chains') === (parent === layout.agentsDir),
  )?.[0];
  if (kind === undefined || (parent !== layout.agentsDir && parent !== layout.conversationsDir)) return null;
  return { kind, owner, file };
}

/** The records of a data file's parsed JSON, as loads return them (one record for a conversation or chunk info). */
export function recordsOf(kind: SearchKind, file: string, value: JsonValue): JsonValue[] {
  switch (kind) {
    case 'raw_messages':
      return parseListEnvelope(file, value, 'messages', false);
    case 'memories':
      return parseListEnvelope(file, value, 'memories', true);
    case 'reasoning_chains':
      return parseListEnvelope(file, value, 'chains', true);
    case 'conversations':
      return [parseWrappedObject(file, value, '_storage_metadata')];
    case 'chunk_info':
      return [parseWrappedObject(file, value, '_metadata')];
  }
}

/**
 * The data files of `kinds` in scope: the given conversation and agent, or every folder under
 * `conversations/` and `agents/` (whether the file exists is seen when it is stat'ed).
 */
export async function sourcesInScope(
  layout: StoreLayout,
  kinds: readonly SearchKind[],
  conversationId: string | null,
  agentId: string | null,
): Promise<SourceRef[]> {
  const conversationKinds = kinds.filter((kind) => kind !== 'reasoning_chains');
  const out: SourceRef[] = [];
  if (conversationKinds.length > 0) {
    const dirs =
      conversationId !== null
        ? [layout.conversationDir(conversationId)]
        : (await readdirOrEmpty(layout.conversationsDir)).map((name) =>
            path.join(layout.conversationsDir, name),
          );
    for (const dir of dirs)
      for (const kind of conversationKinds)
        out.push({ kind, owner: path.basename(dir), file: path.join(dir, SOURCE_FILES[kind]) });
  }
  if (kinds.includes('reasoning_chains')) {
    const dirs =
      agentId !== null
        ? [layout.agentDir(agentId)]
        : (await readdirOrEmpty(layout.agentsDir)).map((name) => path.join(layout.agentsDir, name));
    for (const dir of dirs)
      out.push({ kind: 'reasoning_chains', owner: path.basename(dir), file: path.join(dir, CHAINS_FILE) });
  }
  return out;
}

/** The identity of the file at `file` (symlinks followed), or `null` when it is missing or not a file. */
export function statIdentity(file: string): FileIdentity | null {
  let stat: BigIntStats | undefined;
  try {
    stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    // A stray file where a folder belongs (ENOTDIR) holds no records.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw ioError('stat', file, error);
  }
  return stat === undefined || !stat.isFile() ? null : identityOf(stat);
}

/**
 * The identity of each file (`null`: missing). Synchronous `stat`s in chunks: each is a
 * metadata lookup of a few microseconds, where a trip through the thread pool costs ten times
 * that, and a search checks every file in scope; the event loop is released between chunks.
 */
export async function identitiesOf(files: readonly string[]): Promise<Array<FileIdentity | null>> {
  const out: Array<FileIdentity | null> = [];
  const turns = new LoopTurns(STAT_CHUNK);
  for (const file of files) {
    await turns.step();
    out.push(statIdentity(file));
  }
  return out;
}

/** A data file's records and the identity of the file they were read from. */
export interface SourceContent {
  identity: FileIdentity;
  records: JsonValue[];
}

/**
 * Reads a data file's records with the identity of the very file read (`fstat` of the open
 * file), or `null` when it is missing. A file that does not parse is a `CorruptDataError`,
 * as a load of it is. Synchronous: parsing the JSON blocks longer than reading it, and a
 * search reads only the files of its hits, where three trips through the busy thread pool
 * (open, stat and read, close) cost more than the read.
 */
export function readSource(source: SourceRef): Promise<SourceContent | null> {
  return new Promise((resolve) => resolve(readSourceNow(source)));
}

function readSourceNow({ file, kind }: SourceRef): SourceContent | null {
  let read: BytesAndStat;
  try {
    read = readFileAndStatSync(file); // a FIFO is refused, never waited on (see `fd-io.ts`)
  } catch (error) {
    missingOrThrow(file, error); // throws unless the file is missing
    return null;
  }
  return { identity: identityOf(read.stat), records: recordsOf(kind, file, jsonFromBytes(file, read.bytes)) };
}
