/**
 * Child process of the multi-process conformance suite: opens the store described by its first
 * argument (a {@link ChildStoreSpec} as JSON), runs a seeded workload as writer `<writer>` in
 * five lanes at once (each lane's calls one after another, so its order is known), and prints
 * one {@link ChildReport} JSON line. Exits 1 with the error on stderr when any call fails.
 * Usage: tsx multi-process.child.ts <spec json> <writer> <seed>
 */
import type { Cluster } from 'ioredis';
import type { JsonObject, StorageInterface } from '../../src/core/index.js';
import { seededRandom } from '../../bench/random.js';
import { openChildStore } from './child-store.js';
import type { ChildStoreSpec } from './harness.js';
import {
  type ChildReport,
  KEPT_CHAINS,
  type LoggedOp,
  SHORT_TTL_SECONDS,
  TRIM_KEEP,
} from './multi-process-log.js';

/** Calls per lane. */
const MEMORY_OPS = 40;
const CHAIN_OPS = 20;
const OVERWRITE_OPS = 60;
const DELETE_RACE_OPS = 30;
const EXPIRY_OPS = 40;
const TRIM_OPS = 30;

const clients: Cluster[] = [];

/** A value that names its writer and step throughout, so a mix of two writes cannot pass as one. */
function valueOf(writer: string, i: number, random: () => number): JsonObject {
  return { writer, i, pad: `${writer}${i}|`.repeat(1 + Math.floor(random() * 200)) };
}

async function main(): Promise<void> {
  const [specJson, writer, seedText] = process.argv.slice(2);
  if (specJson === undefined || writer === undefined || seedText === undefined) {
    throw new Error('usage: multi-process.child.ts <spec json> <writer> <seed>');
  }
  const spec = JSON.parse(specJson) as ChildStoreSpec;
  const random = seededRandom(Number(seedText));
  const s = await openChildStore(spec, {}, clients);
  const kept = await openChildStore(spec, { maxReasoningChainsPerAgent: KEPT_CHAINS }, clients);
  const ops: LoggedOp[] = [];
  const log = (op: LoggedOp): void => void ops.push(op);
  const pick = (n: number): number => Math.floor(random() * n);

  const memories = async (): Promise<void> => {
    for (let i = 0; i < MEMORY_OPS; i += 1) {
      const id = `m${pick(3)}`;
      if (random() < 0.1) {
        const memoryId = `shared-${pick(4)}`;
        await s.deleteMemory(id, memoryId);
        log({ lane: 'memories', kind: 'memory', op: 'delete', id, memoryId });
        continue;
      }
      const own = { memoryId: `${writer}-${i}`, data: valueOf(writer, i, random) };
      const shared = { memoryId: `shared-${pick(4)}`, data: valueOf(writer, i, random) };
      const batch = random() < 0.5 ? [own] : random() < 0.5 ? [own, shared] : [shared];
      if (batch.length === 1 && random() < 0.5) await s.storeMemory(id, batch[0]!.memoryId, batch[0]!.data);
      else await s.storeMemories(id, batch);
      for (const item of batch) {
        log({ lane: 'memories', kind: 'memory', op: 'store', id, memoryId: item.memoryId, value: item.data });
      }
    }
  };

  const chains = async (lane: 'chains' | 'kept', target: StorageInterface): Promise<void> => {
    for (let i = 0; i < CHAIN_OPS; i += 1) {
      const size = 1 + pick(3);
      const batch = Array.from({ length: size }, (_, part) => ({ writer, i, part }));
      if (size === 1) await target.storeReasoningChain(lane, batch[0]!);
      else await target.appendReasoningChains(lane, batch);
      for (const chain of batch) log({ lane, kind: 'chain', op: 'store', id: lane, value: chain });
    }
  };

  /** One batch call over several kinds or keys, logged as its single stores. */
  const batchWrite = async (cache: boolean, id: string, value: JsonObject): Promise<void> => {
    if (cache) {
      const other = `k${pick(3)}`;
      const entries = [{ key: id, data: value }];
      if (other !== id) entries.push({ key: other, data: { ...value, other: true } });
      await s.storeCacheEntries(entries);
      for (const entry of entries)
        log({ lane: 'overwrites', kind: 'cache', op: 'store', id: entry.key, value: entry.data });
      return;
    }
    const rawMessages = [{ ...value, n: 0 }];
    const chunkInfo = { ...value, chunk: true };
    await s.storeConversationBatch([{ conversationId: id, conversation: value, rawMessages, chunkInfo }]);
    log({ lane: 'overwrites', kind: 'conversation', op: 'store', id, value });
    log({ lane: 'overwrites', kind: 'raw', op: 'store', id, value: rawMessages });
    log({ lane: 'overwrites', kind: 'chunk', op: 'store', id, value: chunkInfo });
  };

  const overwrites = async (): Promise<void> => {
    for (let i = 0; i < OVERWRITE_OPS; i += 1) {
      const kind = (['conversation', 'raw', 'chunk', 'cache', 'state'] as const)[pick(5)]!;
      const id = `${kind === 'cache' ? 'k' : kind === 'state' ? 's' : 'o'}${pick(3)}`;
      const value = valueOf(writer, i, random);
      if (random() < 0.2) {
        if (kind === 'cache') await s.deleteCacheEntry(id);
        else if (kind === 'state') await s.deleteSystemState(id);
        else await s.deleteConversation(id);
        // deleteConversation removes every conversation kind of the id at once.
        const deleted = kind === 'cache' || kind === 'state' ? kind : 'conversation';
        log({ lane: 'overwrites', kind: deleted, op: 'delete', id });
        continue;
      }
      if (random() < 0.15 && kind !== 'state') {
        await batchWrite(kind === 'cache', id, value);
        continue;
      }
      let stored: unknown = value;
      if (kind === 'conversation') await s.storeConversation(id, value);
      else if (kind === 'chunk') await s.storeChunkInfo(id, value);
      else if (kind === 'state') await s.storeSystemState(id, value);
      else if (kind === 'cache') await s.storeCacheEntry(id, value, random() < 0.5 ? 3600 : undefined);
      else {
        const messages = Array.from({ length: 1 + pick(4) }, (_, n): JsonObject => ({ ...value, n }));
        await s.storeRawMessages(id, messages);
        stored = messages;
      }
      log({ lane: 'overwrites', kind, op: 'store', id, value: stored });
    }
  };

  const deletes = async (): Promise<void> => {
    for (let i = 0; i < DELETE_RACE_OPS; i += 1) {
      if (random() < 0.2) {
        await s.deleteConversation('d');
        log({ lane: 'deletes', kind: 'conversation', op: 'delete', id: 'd' });
      } else if (random() < 0.3) {
        // Two memories in one batch (all or nothing, as a delete is).
        const memories = [0, 1].map((n) => ({
          memoryId: `${writer}-d${i}.${n}`,
          data: valueOf(writer, i, random),
        }));
        await s.storeConversationBatch([{ conversationId: 'd', memories }]);
        for (const { memoryId, data } of memories) {
          log({ lane: 'deletes', kind: 'memory', op: 'store', id: 'd', memoryId, value: data });
        }
      } else {
        const value = valueOf(writer, i, random);
        await s.storeMemory('d', `${writer}-d${i}`, value);
        log({ lane: 'deletes', kind: 'memory', op: 'store', id: 'd', memoryId: `${writer}-d${i}`, value });
      }
    }
  };

  // Appends to one agent while all trim it and delete its chains.
  const trims = async (): Promise<void> => {
    for (let i = 0; i < TRIM_OPS; i += 1) {
      const roll = random();
      if (roll < 0.1) {
        await s.deleteReasoningChains('trimmed');
        log({ lane: 'trims', kind: 'chain', op: 'delete', id: 'trimmed' });
      } else if (roll < 0.25) {
        await s.trimReasoningChains('trimmed', TRIM_KEEP);
      } else {
        const batch = Array.from({ length: 1 + pick(2) }, (_, part) => ({ writer, i, part }));
        await s.appendReasoningChains('trimmed', batch);
        for (const chain of batch)
          log({ lane: 'trims', kind: 'chain', op: 'store', id: 'trimmed', value: chain });
      }
    }
  };

  // Entries that expire within moments, stored over live ones, while everyone purges.
  const expiry = async (): Promise<void> => {
    for (let i = 0; i < EXPIRY_OPS; i += 1) {
      if (random() < 0.3) {
        await s.purgeExpiredCache();
        continue;
      }
      const id = `e${pick(2)}`;
      const value = valueOf(writer, i, random);
      const ttlSeconds = random() < 0.5 ? SHORT_TTL_SECONDS : undefined;
      await s.storeCacheEntry(id, value, ttlSeconds);
      log({ lane: 'expiry', kind: 'cache', op: 'store', id, value, ...(ttlSeconds ? { ttlSeconds } : {}) });
    }
  };

  await Promise.all([
    memories(),
    chains('chains', s),
    chains('kept', kept),
    overwrites(),
    deletes(),
    expiry(),
    trims(),
  ]);
  await s.shutdown();
  await kept.shutdown();
  for (const client of clients) client.disconnect();
  const report: ChildReport = { writer, ops };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
