/**
 * Retention of reasoning chains: stable per-agent sequence numbers and trimming.
 *
 * Every chain has a sequence number beside it (never inside the record, so plain loads stay
 * what the Python reference loads): increasing in append order within an agent, never reused,
 * and never changed by a trim or a delete. Built-in backends keep them natively (see the
 * README's "Reasoning-chain retention"); the defaults here, for a registered backend that does
 * not override them, number chains by position, which is stable only while nothing is trimmed.
 */
import { CorruptChainsError, CorruptDataError, describeValue, ValidationError } from './errors.js';
import { validateId, validateLimit } from './ids.js';
import type { JsonObject } from './json.js';
import { readOptions } from './paging.js';
import { checkFor, recordText } from './record-names.js';
import type { SkipItem } from './search/unreadable.js';
import { PagedStorage } from './storage-paging.js';

/** A reasoning chain with its per-agent sequence number, as `loadSequencedReasoningChains` returns it. */
export interface SequencedChain {
  /** Increasing in append order within the agent; never reused, never renumbered. */
  sequence: number;
  /** The chain exactly as `loadReasoningChains` returns it (`stored_at` included). */
  chain: JsonObject;
}

/** Options of `loadSequencedReasoningChains`. */
export interface SequencedChainOptions {
  /**
   * Only chains whose sequence is greater than this (any integer; e.g. `-1` for all), oldest
   * first; with `limit`, the first `limit` of them (a forward page).
   */
  afterSequence?: number;
  /**
   * A positive integer. Without `afterSequence`: the most recent `limit` chains, still oldest
   * first (as `loadReasoningChains(agentId, limit)`). With it: the first `limit` after it.
   */
  limit?: number;
}

/** A validated read of sequenced chains: `after` null means "the most recent `limit`" (or all). */
export interface SequencedChainRead {
  /** Only chains whose sequence is greater than this; `null`: the most recent `limit` (or all). */
  after: number | null;
  /** Most chains to read (a positive integer); `null`: no limit. */
  limit: number | null;
}

/** What a {@link CorruptDataError} says about its place: its message without `Corrupt data at <location>: `. */
export function corruptReason(error: CorruptDataError): string {
  const prefix = `Corrupt data at ${error.location}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/**
 * `parse()`, the read of the chain with `sequence` of `agentId`; a {@link CorruptDataError} it
 * throws becomes a {@link CorruptChainsError} naming that sequence, so that a check can read on
 * after it. For backends that keep one chain per row or list item.
 */
export function parseSequencedChain<T>(agentId: string, sequence: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof CorruptDataError) || error instanceof CorruptChainsError) throw error;
    throw new CorruptChainsError(agentId, sequence, [error.location], corruptReason(error), error);
  }
}

/** Checks `keepLast`: a non-negative safe integer. Throws {@link ValidationError} otherwise. */
export function validateKeepLast(keepLast: unknown): number {
  if (typeof keepLast !== 'number' || !Number.isSafeInteger(keepLast) || keepLast < 0) {
    throw new ValidationError('keepLast', `must be a non-negative integer (got ${describeValue(keepLast)})`);
  }
  return keepLast;
}

/** Checks the options of `loadSequencedReasoningChains`. Throws {@link ValidationError}. */
export function validateSequencedOptions(options: unknown): SequencedChainRead {
  if (options === undefined || options === null) return { after: null, limit: null };
  // An unknown name (`afterSeqence`, `limt`) is refused, as every other options argument's:
  // until 2026-12-06 it was ignored and the whole list came back.
  const { afterSequence, limit } = readOptions(options, ['afterSequence', 'limit'] as const);
  let after: number | null = null;
  if (afterSequence !== undefined && afterSequence !== null) {
    if (typeof afterSequence !== 'number' || !Number.isSafeInteger(afterSequence)) {
      throw new ValidationError('afterSequence', `must be an integer (got ${describeValue(afterSequence)})`);
    }
    after = afterSequence;
  }
  return { after, limit: validateLimit(limit) };
}

/** The chains of a numbered, oldest-first list that a {@link SequencedChainRead} selects. */
export function selectSequenced(all: SequencedChain[], read: SequencedChainRead): SequencedChain[] {
  if (read.after === null) return read.limit === null ? all : all.slice(-read.limit);
  const after = read.after;
  const newer = all.filter((item) => item.sequence > after);
  return read.limit === null ? newer : newer.slice(0, read.limit);
}

/** Retention of reasoning chains: stable per-agent sequence numbers and trimming. Extend `StorageInterface`, not this. */
export abstract class RetentionStorage extends PagedStorage {
  /**
   * The `maxReasoningChainsPerAgent` option: each append keeps only this many most recent
   * chains of the agent (the append and the trim happen together), or `null` for no limit.
   * Built-in backends report their config; a registered backend that takes the option
   * overrides this and applies it in its `appendReasoningChain`.
   */
  get maxReasoningChainsPerAgent(): number | null {
    return null;
  }

  /**
   * Loads an agent's chains with their sequence numbers, oldest first. Without options, all
   * of them; `{ limit }` the most recent `limit`; `{ afterSequence, limit }` a forward page.
   */
  async loadSequencedReasoningChains(
    agentId: string,
    options?: SequencedChainOptions,
  ): Promise<SequencedChain[]> {
    validateId('agentId', agentId);
    const read = checkFor(recordText.reasoningChains(agentId), () => validateSequencedOptions(options));
    return this.run('loadSequencedReasoningChains', () => this.readSequencedChains(agentId, read));
  }

  /**
   * Removes an agent's oldest chains, keeping the most recent `keepLast` (a non-negative
   * integer); returns how many it removed. The chains kept keep their sequence numbers.
   * `keepLast = 0` removes them all, as `deleteReasoningChains` does: the agent is no longer
   * listed, and its next chain still gets a number after every earlier one.
   */
  async trimReasoningChains(agentId: string, keepLast: number): Promise<number> {
    validateId('agentId', agentId);
    const keep = checkFor(recordText.reasoningChains(agentId), () => validateKeepLast(keepLast));
    return this.runWrite('trimReasoningChains', () => this.keepLastChains(agentId, keep));
  }

  // ----- primitives with defaults (built-in backends override them natively) -------------

  /**
   * The chains `read` selects, numbered. Default: numbered by position (0 = oldest), which a
   * trim renumbers; a backend with stable numbers overrides it. `skip` as for raw messages
   * (see `readRawMessages`); this default reads the list whole and ignores it.
   */
  protected async readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
    _skip?: SkipItem,
  ): Promise<SequencedChain[]> {
    const all = await this.readReasoningChains(agentId, null);
    return selectSequenced(
      all.map((chain, sequence) => ({ sequence, chain })),
      read,
    );
  }

  /**
   * Keeps the most recent `keepLast` chains; returns how many were removed. Default: removes
   * all chains and appends the kept ones again (not atomic; built-in backends trim in one step).
   */
  protected async keepLastChains(agentId: string, keepLast: number): Promise<number> {
    const all = await this.readReasoningChains(agentId, null);
    const removed = Math.max(0, all.length - keepLast);
    if (removed === 0) return 0;
    await this.removeReasoningChains(agentId);
    for (const chain of all.slice(removed)) await this.appendReasoningChain(agentId, chain);
    return removed;
  }
}
