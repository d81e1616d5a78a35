/**
 * The file backend's chain journal: an agent's sequence file (`{ agent_id, first, pending? }`
 * in `.connectome-storage/chain-sequences/`) and how a reader tells from the chains file whether
 * a pending trim or delete landed (see `chains.ts` for the whole scheme).
 */
import { createHash } from 'node:crypto';
import { CorruptDataError, isJsonObject, type JsonObject, type JsonValue } from '../../core/index.js';

/** A change of `first` that may or may not have reached the chains file yet. */
interface PendingChange {
  first: number;
  length: number;
  head: string | null;
  old_head: string | null;
  /** Only where `head === old_head`: what tells the two lists apart (see the file comment). */
  lists: { list_hash: string; old_length: number; old_list_hash: string } | null;
}

/** The parsed sequence file of an agent. */
export interface SequenceState {
  first: number;
  pending: PendingChange | null;
}

/** A hash of a chain list's first record (`null` for an empty list). */
export function headHash(chains: readonly JsonValue[]): string | null {
  return chains.length === 0 ? null : createHash('sha256').update(JSON.stringify(chains[0])).digest('hex');
}

/** A hash of the first `length` chains of `chains` (`null` when it has fewer). */
export function listHash(chains: readonly JsonValue[], length: number): string | null {
  if (chains.length < length) return null;
  const hash = createHash('sha256');
  // JSON text holds no raw line break, so the records cannot run into each other.
  for (let i = 0; i < length; i += 1) hash.update(`${JSON.stringify(chains[i])}\n`);
  return hash.digest('hex');
}

/** The list hashes of a pending change, `null` when absent or not well formed (an older record). */
function parseLists(pending: JsonObject): PendingChange['lists'] {
  const { list_hash, old_length, old_list_hash } = pending;
  if (typeof list_hash !== 'string' || typeof old_list_hash !== 'string') return null;
  if (!Number.isSafeInteger(old_length)) return null;
  return { list_hash, old_length: old_length as number, old_list_hash };
}

/** An agent's sequence file as read, or a `CorruptDataError` naming `file`. */
export function parseSequenceFile(file: string, value: JsonValue): SequenceState {
  const bad = (): never => {
    throw new CorruptDataError(file, 'expected { agent_id, first, pending? } with integer sequences');
  };
  if (!isJsonObject(value) || !Number.isSafeInteger(value.first)) return bad();
  const pending = value.pending ?? null;
  if (
    pending !== null &&
    (!isJsonObject(pending) || !Number.isSafeInteger(pending.first) || !Number.isSafeInteger(pending.length))
  )
    return bad();
  return {
    first: value.first as number,
    pending:
      pending === null
        ? null
        : {
            first: pending.first as number,
            length: pending.length as number,
            head: typeof pending.head === 'string' ? pending.head : null,
            old_head: typeof pending.old_head === 'string' ? pending.old_head : null,
            lists: parseLists(pending),
          },
  };
}

/** The sequence of the first chain in `chains`, given the agent's sequence file (or none). */
export function firstSequence(state: SequenceState | null, chains: readonly JsonValue[]): number {
  if (state === null) return 0;
  const pending = state.pending;
  if (pending === null) return state.first;
  return landed(pending, chains) ? pending.first : state.first;
}

/** Whether the chains file as read (`chains`) is the one `pending` was about to write (see the file comment). */
function landed(pending: PendingChange, chains: readonly JsonValue[]): boolean {
  const head = headHash(chains);
  if (pending.head !== pending.old_head) return head !== pending.old_head;
  const { lists } = pending;
  if (lists !== null) {
    const isNew = listHash(chains, pending.length) === lists.list_hash;
    const isOld = listHash(chains, lists.old_length) === lists.old_list_hash;
    if (isNew !== isOld) return isNew;
    if (isNew) return chains.length === pending.length && chains.length !== lists.old_length;
  }
  return head !== pending.old_head || chains.length === pending.length;
}
