/**
 * How vector search turns a vector id into its record: each owner's list of a kind is read once
 * per search. With `unreadable: 'skip'`, a record that does not parse is left out as if gone, and
 * noted only when a hit asks for it.
 */
import type { JsonObject, JsonValue } from '../json.js';
import type { SearchRecordRef } from '../search/hits.js';
import type { SearchKind } from '../search/query.js';
import { type OwnerList, readOwnerList, type SkipItem, SkippedRecords } from '../search/unreadable.js';
import type { SequencedChain } from '../storage-retention.js';
import type { VectorRef } from './vector-ids.js';

/** The reads vector search resolves ids with (`skip`: see {@link SkipItem}). */
export interface RecordReader {
  readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null>;
  readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]>;
  /** Every chain of the agent with its sequence number, oldest first. */
  readAllSequencedChains(agentId: string, skip?: SkipItem): Promise<SequencedChain[]>;
}

/** An owner's list as the resolver read it, with the records it left out (not noted yet). */
interface Loaded<T> extends OwnerList<T> {
  left: SkippedRecords | null;
}

/** Loads each owner's records once per search. */
export class Resolver {
  private readonly raw = new Map<string, Promise<Loaded<JsonValue>>>();
  private readonly memories = new Map<string, Promise<Loaded<JsonObject>>>();
  private readonly chains = new Map<string, Promise<Loaded<SequencedChain>>>();

  /**
   * @param skipped where a search with `unreadable: 'skip'` notes the records that do not parse
   * (left out as if gone; a list the backend cannot read apart, whole); `null`: they reject it
   */
  constructor(
    private readonly reader: RecordReader,
    private readonly skipped: SkippedRecords | null,
  ) {}

  /** Starts loading `ref`'s record; its outcome (an error too) is met by a later `resolve`. */
  prefetch(ref: VectorRef): void {
    const loading =
      ref.kind === 'raw_messages'
        ? this.rawOf(ref.conversationId)
        : ref.kind === 'memories'
          ? this.memoriesOf(ref.conversationId)
          : this.chainsOf(ref.agentId);
    loading.catch(() => undefined);
  }

  /** The hit fields (ids and record) of a vector ref, or `null` when its record is gone. */
  async resolve(ref: VectorRef): Promise<(SearchRecordRef & { record: JsonValue }) | null> {
    switch (ref.kind) {
      case 'raw_messages': {
        const { items, positions, left } = await this.rawOf(ref.conversationId);
        const record = items[positions === null ? ref.messageIndex : positions.indexOf(ref.messageIndex)];
        return record === undefined ? this.leftOut(left, ref.messageIndex) : { ...ref, record };
      }
      case 'memories': {
        const { items, left } = await this.memoriesOf(ref.conversationId);
        const record = items.find((memory) => memory.memory_id === ref.memoryId);
        return record === undefined ? this.leftOut(left, ref.memoryId) : { ...ref, record };
      }
      case 'reasoning_chains': {
        const { items, positions, left } = await this.chainsOf(ref.agentId);
        const i = items.findIndex((item) => item.sequence === ref.sequence);
        if (i < 0) return this.leftOut(left, ref.sequence);
        return {
          kind: ref.kind,
          agentId: ref.agentId,
          chainIndex: positions?.[i] ?? i,
          sequence: ref.sequence,
          record: items[i]!.chain,
        };
      }
    }
  }

  private rawOf(conversationId: string): Promise<Loaded<JsonValue>> {
    return this.load(this.raw, 'raw_messages', conversationId, (skip) =>
      this.reader.readRawMessages(conversationId, skip),
    );
  }

  private memoriesOf(conversationId: string): Promise<Loaded<JsonObject>> {
    return this.load(this.memories, 'memories', conversationId, (skip) =>
      this.reader.readMemories(conversationId, skip),
    );
  }

  private chainsOf(agentId: string): Promise<Loaded<SequencedChain>> {
    return this.load(this.chains, 'reasoning_chains', agentId, (skip) =>
      this.reader.readAllSequencedChains(agentId, skip),
    );
  }

  /** The owner's list of `kind`, read once per search. */
  private load<T>(
    cache: Map<string, Promise<Loaded<T>>>,
    kind: SearchKind,
    owner: string,
    read: (skip?: SkipItem) => Promise<T[] | null>,
  ): Promise<Loaded<T>> {
    let loaded = cache.get(owner);
    if (loaded === undefined) {
      // Noted apart, and passed on only for a record a hit asks for (`leftOut`): a list read for
      // one hit holds many records no hit asks for.
      const left = this.skipped === null ? null : new SkippedRecords();
      loaded = readOwnerList(left, kind, owner, read).then((list) => ({ ...list, left }));
      cache.set(owner, loaded);
    }
    return loaded;
  }

  /** `null` (no record), after noting the record (or its whole list) when the read left it out. */
  private leftOut(left: SkippedRecords | null, record: string | number): null {
    for (const item of left?.list() ?? [])
      if (item.record === undefined || item.record === record) this.skipped?.add(item);
    return null;
  }
}
