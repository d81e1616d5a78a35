/**
 * Reasoning-chain appends, sequence numbers, trims and deletes of the file backend.
 *
 * `agents/{id}/reasoning_chains.json` stays exactly the reference's envelope. The sequence of
 * the chain at index `i` is `first + i`, where `first` (the sequence of the file's first chain)
 * lives in this library's own folder, `.connectome-storage/chain-sequences/{hash}.json`, which
 * the reference never reads: `{ agent_id, first }`. No file means `first = 0`, so a store the
 * reference wrote numbers its chains from 0, and a chain the reference appends gets the next
 * number. Only trims and deletes move `first` (by the number of chains they remove).
 *
 * A trim or delete changes two files, so it is journalled: the sequence file first records
 * the change it is about to make (`pending`: the new `first`, the new length and a hash of the
 * new and old first chain), then the chains file is replaced, then the sequence file is
 * settled. A crash between leaves `pending`, and readers tell from the chains file whether the
 * change landed: its first chain is no longer the old one. When the old and the new first chain
 * are the same (a batch gives its chains one `stored_at`, so `[A, A]` are equal), `pending` also
 * holds hashes of the whole new and old lists and the old length, and the change landed when
 * the file begins with the new list and not with the old one; where it begins with both (one
 * list begins the other), when its length is the new length and not the old one. A record
 * without them (written by an earlier version) is judged by the length alone. The next write
 * settles it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CorruptChainsError,
  CorruptDataError,
  corruptReason,
  type JsonObject,
  type JsonValue,
  nowTimestamp,
  type SequencedChain,
  type SequencedChainRead,
  selectSequenced,
  StorageError,
} from '../../core/index.js';
import { atomicWriteJson, type FileIdentity, identityOf, makeDirUnder } from './atomic-json.js';
import { readParsedFile } from './json-reads.js';
import { chainsEnvelope } from './envelopes.js';
import type { AssertLockHeld } from './file-lock.js';
import type { FolderFiles } from './folder-files.js';
import type { FolderReads } from './folder-reads.js';
import type { StoreLayout } from './layout.js';
import { statNow } from './metadata-now.js';
import { firstSequence, headHash, listHash, parseSequenceFile, type SequenceState } from './chain-journal.js';
import { quoteName } from '../../core/shown-text.js';

/** Folder of the per-agent sequence files, inside `.connectome-storage/`. */
export const CHAIN_SEQUENCES_DIR = 'chain-sequences';

/** Chain writes and sequenced reads of one file store; every write holds the agent's lock. */
export class FileChains {
  /**
   * @param layout where the folders are.
   * @param folders locked, backed-up writes of agent folders.
   * @param reads parsed reads of agent files.
   * @param pretty indent JSON (`prettyPrintJson`).
   */
  constructor(
    private readonly layout: StoreLayout,
    private readonly folders: FolderFiles,
    private readonly reads: FolderReads,
    private readonly pretty: boolean,
  ) {}

  /**
   * Appends `records` and, with `keepLast`, trims the agent to its last `keepLast` chains in
   * the same locked step. A batch append calls this too.
   */
  async append(agentId: string, records: readonly JsonObject[], keepLast: number | null): Promise<void> {
    await this.folders.withAgent(agentId, async (assertHeld) => {
      // The list this store last wrote stays parsed (see FolderFiles.readList): no re-read.
      const file = this.layout.chainsFile(agentId);
      const read = await this.folders.readList(file, () => this.reads.chainsFile(agentId));
      const chains = read.list as JsonObject[];
      const all = [...chains, ...records];
      const removed = keepLast === null ? 0 : Math.max(0, all.length - keepLast);
      if (removed > 0) {
        // Only a trim moves `first`, so only a trim reads the sequence file (a plain append
        // leaves it as it is, pending change included: readers settle that from the chains file).
        const first = firstSequence(await this.readState(agentId), chains);
        await this.rewrite(agentId, first, removed, chains, all.slice(removed), assertHeld);
      } else if (all.length > 0) {
        await this.folders.replaceList(
          file,
          all,
          chainsEnvelope(agentId, all, nowTimestamp()),
          read,
          assertHeld,
        );
      }
    });
  }

  /** Keeps the last `keepLast` chains; returns how many were removed. */
  async trim(agentId: string, keepLast: number): Promise<number> {
    return this.folders.withAgent(agentId, (assertHeld) => this.trimHeld(agentId, keepLast, assertHeld));
  }

  /**
   * Removes every chain of the agent (its numbers are not reused), also a chains file that does
   * not parse (see {@link removeUnreadable}), with the file's backups: a delete leaves no copy of
   * what it deleted, and makes none (until 2026-12-06 it was a trim to 0, an overwrite, which
   * backed up every chain it deleted).
   */
  async removeAll(agentId: string): Promise<void> {
    await this.folders.withAgent(agentId, async (assertHeld) => {
      const file = this.layout.chainsFile(agentId);
      let removed: number;
      try {
        removed = await this.trimHeld(agentId, 0, assertHeld, true);
      } catch (error) {
        if (!(error instanceof CorruptDataError) || error.location !== file) throw error;
        return this.removeUnreadable(agentId, error, assertHeld);
      }
      // A file holding an empty list (written by someone else) goes too, and the backups of a
      // file already gone (a delete cut short after the file's removal).
      if (removed === 0) await this.folders.remove(file, assertHeld, true);
    });
  }

  /**
   * The chains `read` selects with their sequence numbers, oldest first. Two reads without the
   * lock, paired by {@link firstSequenceOf}; read again while a write lands between them (each
   * retry means a write landed, and a write takes far longer than reads).
   */
  async readSequenced(agentId: string, read: SequencedChainRead): Promise<SequencedChain[]> {
    const file = this.layout.chainsFile(agentId);
    for (;;) {
      const before = statNow(file, 'read');
      const chains = await this.reads
        .chains(agentId, null)
        .catch((error: unknown) => this.corrupt(agentId, error));
      if (chains.length === 0) return [];
      if (before === null) continue; // written since the stat
      const first = await this.firstSequenceOf(agentId, chains, identityOf(before)).catch((error: unknown) =>
        this.unnumbered(agentId, error),
      );
      if (first === null) continue;
      return selectSequenced(
        chains.map((chain, i) => ({ sequence: first + i, chain })),
        read,
      );
    }
  }

  /**
   * The sequence of the first of `chains`, read from the chains file when it had `identity`;
   * `null` when it lost it by the end of the sequence file's read (the caller reads both again):
   * a trim landing between the reads would number the chains it removed by its new `first`.
   */
  async firstSequenceOf(
    agentId: string,
    chains: readonly JsonValue[],
    identity: FileIdentity,
  ): Promise<number | null> {
    const state = await this.readState(agentId);
    const after = statNow(this.layout.chainsFile(agentId), 'read');
    return after !== null && identityOf(after) === identity ? firstSequence(state, chains) : null;
  }

  // ----- helpers ---------------------------------------------------------------------------

  /** Keeps the last `keepLast` chains; `deleting`: a delete of them all (see {@link removeAll}). */
  private async trimHeld(
    agentId: string,
    keepLast: number,
    assertHeld: AssertLockHeld,
    deleting = false,
  ): Promise<number> {
    const chains = await this.reads.chainsFile(agentId);
    const removed = Math.max(0, chains.length - keepLast);
    if (removed === 0) return 0;
    const first = firstSequence(await this.readState(agentId), chains);
    await this.rewrite(agentId, first, removed, chains, chains.slice(removed), assertHeld, deleting);
    return removed;
  }

  /**
   * Deletes a chains file that does not parse (`error`), so a delete can clear what no read
   * can. How many chains it held is unknown, so `first` moves past every number it could have
   * held: each chain is a JSON object (`{}` and a comma at least), so a file of `n` bytes holds
   * fewer than `ceil(n / 2)` chains, numbered from the sequence file's `first` (or its pending
   * one, whichever is higher). The numbers then have a gap, never a reuse. The sequence file is
   * written first: a crash before the removal leaves the corrupt file, and the next delete only
   * moves `first` further. The file is backed up as any removed file, and leaves the search
   * index; like any deleted chains file it is not backed up, and its backups go with it (until
   * 2026-12-06 its bytes were backed up). Anything but a regular file is not this library's to
   * remove: `error` stands.
   */
  private async removeUnreadable(
    agentId: string,
    error: CorruptDataError,
    assertHeld: AssertLockHeld,
  ): Promise<void> {
    const file = this.layout.chainsFile(agentId);
    const stat = await fs.promises.lstat(file).catch(() => null);
    if (stat === null || !stat.isFile()) throw error;
    // A sequence file that does not parse leaves no lower bound: the delete is refused, naming both.
    let state: SequenceState | null;
    try {
      state = await this.readState(agentId);
    } catch (stateError) {
      if (stateError instanceof CorruptDataError) return this.corrupt(agentId, error);
      throw stateError;
    }
    const first = state === null ? 0 : Math.max(state.first, state.pending?.first ?? state.first);
    const next = first + Math.ceil(stat.size / 2);
    await this.writeState(agentId, { agent_id: agentId, first: next }, assertHeld);
    await this.folders.remove(file, assertHeld, true);
  }

  /** `.connectome-storage/chain-sequences/{hash of the agent's folder name}.json` */
  private stateFile(agentId: string): string {
    const name = path.basename(this.layout.agentDir(agentId));
    const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
    return path.join(this.layout.internalDir, CHAIN_SEQUENCES_DIR, `${hash}.json`);
  }

  /**
   * Rejects with `error`; a chains file that does not parse as a `CorruptChainsError` that also
   * names the agent's sequence file when that one does not parse either, so that a check of
   * the store names both at once (nothing after a whole file can be read: no sequence).
   */
  private async corrupt(agentId: string, error: unknown): Promise<never> {
    if (!(error instanceof CorruptDataError) || error instanceof CorruptChainsError) throw error;
    const locations = [error.location];
    let reason = corruptReason(error);
    try {
      await this.readState(agentId);
    } catch (stateError) {
      // Only looked at to be named: any other failure of this read leaves the first error alone.
      if (stateError instanceof CorruptDataError) {
        locations.push(stateError.location);
        reason += `; its sequence file ${stateError.location} does not parse either (${corruptReason(stateError)})`;
      }
    }
    throw new CorruptChainsError(agentId, null, locations, reason, error);
  }

  /**
   * Rejects with `error`; a sequence file that does not parse (the chains do) as the
   * `CorruptChainsError` a sequenced read promises, naming the agent and that file: the
   * chains' numbers are unknown, so no chain can be read past it (`sequence` null).
   */
  private unnumbered(agentId: string, error: unknown): never {
    if (!(error instanceof CorruptDataError) || error instanceof CorruptChainsError) throw error;
    throw new CorruptChainsError(agentId, null, [error.location], corruptReason(error), error);
  }

  /** The agent's sequence file; one that does not parse names its agent (the file is named by a hash). */
  private async readState(agentId: string): Promise<SequenceState | null> {
    try {
      return await readParsedFile(this.stateFile(agentId), parseSequenceFile);
    } catch (error) {
      if (!(error instanceof CorruptDataError) || error.constructor !== CorruptDataError) throw error;
      const reason = `${corruptReason(error)} (the chain sequence file of agent ${quoteName(agentId)})`;
      throw new CorruptDataError(error.location, reason, error.cause);
    }
  }

  private async writeState(agentId: string, state: JsonObject, assertHeld: AssertLockHeld): Promise<void> {
    const file = this.stateFile(agentId);
    try {
      await atomicWriteJson(file, state, {
        pretty: this.pretty,
        beforeCommit: assertHeld,
        createDir: () => makeDirUnder(this.layout.baseDir, path.dirname(file)),
      });
    } catch (error) {
      // The file is named by a hash: an I/O failure says whose it is (a lost lock says so itself).
      if (!(error instanceof StorageError) || error.constructor !== StorageError) throw error;
      throw new StorageError(`${error.message} (the chain sequence file of agent ${quoteName(agentId)})`, {
        cause: error.cause ?? error,
      });
    }
  }

  /**
   * Replaces the chains file by `chains`; records of `old` (the file as read) keep their text.
   * `deleting`: a delete of every chain, which removes the file's backups instead of adding one.
   */
  private async writeChains(
    agentId: string,
    chains: JsonObject[],
    old: readonly JsonObject[],
    assertHeld: AssertLockHeld,
    deleting: boolean,
  ): Promise<void> {
    const file = this.layout.chainsFile(agentId);
    if (chains.length === 0) return this.folders.remove(file, assertHeld, deleting);
    await this.folders.replace(file, chainsEnvelope(agentId, chains, nowTimestamp()), assertHeld, old);
  }

  /**
   * Replaces the chains file holding `old` (first numbered `first`) by `kept`: what is left
   * after the oldest `removed` of `old` plus any appended chains; journalled (see the file comment).
   */
  private async rewrite(
    agentId: string,
    first: number,
    removed: number,
    old: readonly JsonObject[],
    kept: JsonObject[],
    assertHeld: AssertLockHeld,
    deleting = false,
  ): Promise<void> {
    const next = first + removed;
    const head = headHash(kept);
    const oldHead = headHash(old);
    const pending: JsonObject = { first: next, length: kept.length, head, old_head: oldHead };
    // Only where the first chains are equal do the lists need telling apart: a hash of each
    // whole list, which costs a pass over both (see the file comment).
    if (head === oldHead) {
      pending.list_hash = listHash(kept, kept.length);
      pending.old_length = old.length;
      pending.old_list_hash = listHash(old, old.length);
    }
    await this.writeState(agentId, { agent_id: agentId, first, pending }, assertHeld);
    await this.writeChains(agentId, kept, old, assertHeld, deleting);
    // The change has landed: readers and the next write settle a `pending` record left here (as
    // after a crash), so a failed settle (a full disk) must not report the call as failed; a
    // caller that retried it would trim or append twice.
    await this.writeState(agentId, { agent_id: agentId, first: next }, assertHeld).catch(() => undefined);
  }
}
