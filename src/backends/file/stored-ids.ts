/**
 * `listAllConversationIds` on the file backend: the conversation folders holding any stored
 * kind. An empty raw-message list is no stored data (the rule every backend follows: SQLite
 * and PostgreSQL keep one row per message, so an empty list leaves nothing to list). This
 * library removes `raw_messages.json` when a list is replaced by `[]`, but the Python reference
 * (and versions of this library before the rule) write the file with `"messages": []`, so a
 * folder holding only that file must tell. Only such folders are looked into (one holding any
 * other data file is listed from the existence checks alone), and a file's message count is
 * kept by its identity (`RecordCounts`, shared with the writes and the stats), so an unchanged
 * file is read once per process: a listing then costs a `stat` per raw-only folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { identityOf, readdirOrEmpty } from './atomic-json.js';
import { readJsonFileSync } from './json-reads.js';
import { parseListEnvelope } from './envelopes.js';
import { CONVERSATION_FILES } from './layout.js';
import { LoopTurns } from './loop-turns.js';
import type { RecordCounts } from './record-counts.js';

/** Existence checks made in one go before yielding to other work (each takes microseconds). */
const CHECK_CHUNK = 256;

/**
 * Largest `raw_messages.json` read to see whether its list is empty. The envelope of an empty
 * list is about 150 bytes plus the id (at most 255 UTF-8 bytes, up to about 800 once escaped as
 * JSON); a larger file holds messages (or is not ours to judge), so it is listed unread.
 */
const EMPTY_LIST_MAX_BYTES = 4096;

/** What a folder's `raw_messages.json` says without being read. */
type RawState = 'none' | 'messages' | 'unknown';

/**
 * `none` when there is no raw file or its list is known empty; `messages` when it is known to
 * hold messages, or is something a load must report (not a regular file, larger than
 * {@link EMPTY_LIST_MAX_BYTES}, not to be looked at); `unknown` when only reading it can tell.
 */
function rawStateOf(file: string, counts: RecordCounts): { state: RawState; stat?: fs.BigIntStats } {
  let stat: fs.BigIntStats | undefined;
  try {
    stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return { state: 'messages' };
  }
  if (stat === undefined) return { state: 'none' };
  if (!stat.isFile() || stat.size > EMPTY_LIST_MAX_BYTES) return { state: 'messages' };
  const known = counts.get(file, identityOf(stat));
  return { state: known === undefined ? 'unknown' : known > 0 ? 'messages' : 'none', stat };
}

/**
 * Reads a small raw file to tell whether its list holds messages, and keeps its count for the
 * identity `stat` saw (a file changed since has another one, so is read again). A file that
 * does not parse or cannot be read counts as holding some, so its load reports it: a listing
 * never fails on one file.
 */
function readHoldsMessages(file: string, stat: fs.BigIntStats, counts: RecordCounts): boolean {
  try {
    const value = readJsonFileSync(file);
    if (value === undefined) return false; // removed since the stat (a write of [])
    const count = parseListEnvelope(file, value, 'messages', false).length;
    counts.set(file, identityOf(stat), count);
    return count > 0;
  } catch {
    return true;
  }
}

/**
 * True when the folder at `prefix` (its path and a separator) holds any stored kind. Checked in
 * the order that costs least: the conversation (most folders have one), then the raw file's
 * `stat` (with a known count that settles it), then memories and chunk info, and only then a
 * read of the raw file. Paths are concatenated: `path.join` normalises the whole path each
 * time, a measurable part of a listing of 10,000 folders.
 */
function holdsData(prefix: string, counts: RecordCounts): boolean {
  if (fs.existsSync(prefix + CONVERSATION_FILES.conversation)) return true;
  const rawFile = prefix + CONVERSATION_FILES.rawMessages;
  const raw = rawStateOf(rawFile, counts);
  if (raw.state === 'messages') return true;
  if (
    fs.existsSync(prefix + CONVERSATION_FILES.memories) ||
    fs.existsSync(prefix + CONVERSATION_FILES.chunks)
  ) {
    return true;
  }
  return raw.state === 'unknown' && raw.stat !== undefined && readHoldsMessages(rawFile, raw.stat, counts);
}

/**
 * Names of the conversation folders under `parent` holding any stored kind (`[]` when `parent`
 * is missing). Synchronous checks in chunks, as `subfoldersHolding` (see there why); the event
 * loop is released between chunks.
 */
export async function storedConversationIds(parent: string, counts: RecordCounts): Promise<string[]> {
  const names = await readdirOrEmpty(parent);
  const base = path.join(parent, path.sep); // normalised once, ending in a separator
  const out: string[] = [];
  const turns = new LoopTurns(CHECK_CHUNK);
  for (const name of names) {
    const turn = turns.stepSoon();
    if (turn !== undefined) await turn;
    if (holdsData(base + name + path.sep, counts)) out.push(name);
  }
  return out;
}
