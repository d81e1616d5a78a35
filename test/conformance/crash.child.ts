/**
 * Child process of the crash conformance suite: opens the store described by its first argument
 * (a {@link ChildStoreSpec} as JSON) and writes as writer `<writer>` in four lanes at once until
 * it is killed. Each call is logged on stdout (one JSON line, written synchronously) BEFORE it
 * starts and again once it has finished, so the parent knows which calls had certainly landed
 * when the SIGKILL came and which (at most one per lane) may or may not have. `mode` `init`
 * loads the backend, waits for SIGUSR2, opens the store (announced once `initialize()` has
 * started; told `hold`, it blocks there until killed) and waits to be killed; `cache`
 * writes only cache batches over {@link cacheBatchKeys}; `deletes` stores whole conversations, then deletes them. Given `calls`, each lane makes that many
 * more calls once the child gets SIGUSR2, then the child shuts down, prints `{"end":true}`, exits.
 * Usage: tsx crash.child.ts <spec json> <writer> <seed> [mixed|init|cache|deletes] [calls | hold (init)]
 */
import { writeSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import type { JsonObject } from '../../src/core/index.js';
import { seededRandom } from '../../bench/random.js';
import { openChildStore } from './child-store.js';
import type { ChildStoreSpec } from './harness.js';
import {
  cacheBatchKeys,
  type CrashCall,
  type CrashLine,
  type CrashMode,
  type CrashWrite,
} from './crash-log.js';

/** Synchronous, so a line is out before the call it announces starts (or the process dies). */
function emit(line: CrashLine): void {
  let rest = Buffer.from(`${JSON.stringify(line)}\n`);
  // stdout is a non-blocking pipe: when the parent is slow to read, a write fails with EAGAIN
  // or takes part of the line; waiting here keeps the line before the call it announces.
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(1, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

async function main(): Promise<void> {
  const [specJson, writer, seedText, modeText = 'mixed', callsText] = process.argv.slice(2);
  if (!specJson || !writer || !seedText) throw new Error('usage: crash.child.ts <spec json> <writer> <seed>');
  const mode = modeText as CrashMode;
  const random = seededRandom(Number(seedText));
  const clients: Cluster[] = [];
  // An `init` child is started ahead (start-up is most of its time) and opens when told.
  // `on`, not `once`: signal-exit (of the file backend's lock library) re-raises a signal that
  // no other listener takes, which would kill the child.
  const told = new Promise((resolve) => process.on('SIGUSR2', resolve));
  const s = await openChildStore(
    JSON.parse(specJson) as ChildStoreSpec,
    {},
    clients,
    async () => {
      if (mode === 'init') {
        emit({ loaded: true });
        const alive = setInterval(() => undefined, 1000); // a signal listener alone keeps no process up
        await told;
        clearInterval(alive);
      }
    },
    () => {
      // Announced once initialize() has started. Told to hold (a kill at once), the child then
      // blocks its event loop until the kill comes, so that open cannot finish first however slow
      // the parent is to read the line.
      emit({ init: true });
      if (mode === 'init' && callsText === 'hold')
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
    },
  );
  // A `deletes` child announces it is ready once it has stored what it deletes (see below).
  if (mode !== 'deletes') emit({ ready: true });
  if (mode === 'init') {
    setInterval(() => undefined, 60_000); // open, idle, until killed
    return;
  }
  // Told to finish (SIGUSR2, given a call count): each lane's last call number, set at its next call.
  let finishing = false;
  process.on('SIGUSR2', () => (finishing = callsText !== undefined));
  const ends = new Map<string, number>();
  const going = (lane: string, i: number): boolean => {
    if (finishing && !ends.has(lane)) ends.set(lane, i + Number(callsText));
    return i < (ends.get(lane) ?? Infinity);
  };
  let next = 0;
  const pick = (n: number): number => Math.floor(random() * n);
  /** A value naming its writer, lane and step throughout, so a mix of two writes cannot pass as one. */
  const valueOf = (lane: string, i: number): JsonObject => ({
    writer,
    lane,
    i,
    pad: `${writer}${lane}${i}|`.repeat(1 + pick(300)),
  });
  const run = async (call: string, writes: CrashWrite[], act: () => Promise<unknown>): Promise<void> => {
    const n = next++;
    const started: CrashCall = { n, call, writes };
    emit(started);
    await act();
    emit({ done: n });
  };

  const memories = async (): Promise<void> => {
    for (let i = 0; going('memories', i); i += 1) {
      const id = `m${pick(3)}`;
      const items = Array.from({ length: 1 + pick(3) }, (_, part) => ({
        memoryId: `${writer}-${i}.${part}`,
        data: valueOf('m', i),
      }));
      const writes = items.map((m) => ({ kind: 'memory' as const, id, memoryId: m.memoryId, value: m.data }));
      if (items.length === 1)
        await run('storeMemory', writes, () => s.storeMemory(id, items[0]!.memoryId, items[0]!.data));
      else await run('storeMemories', writes, () => s.storeMemories(id, items));
    }
  };

  const chains = async (): Promise<void> => {
    for (let i = 0; going('chains', i); i += 1) {
      const batch = Array.from({ length: 1 + pick(3) }, (_, part) => ({ writer, i, part }));
      const writes = batch.map((value) => ({ kind: 'chain' as const, id: 'chains', value }));
      if (batch.length === 1)
        await run('storeReasoningChain', writes, () => s.storeReasoningChain('chains', batch[0]!));
      else await run('appendReasoningChains', writes, () => s.appendReasoningChains('chains', batch));
    }
  };

  // Appends to a second agent that the same lane trims and deletes (the file backend journals those).
  const trims = async (): Promise<void> => {
    for (let i = 0; going('trims', i); i += 1) {
      const roll = random();
      if (roll < 0.1) {
        await run('deleteReasoningChains', [{ kind: 'deleteChains', id: 'trimmed', value: null }], () =>
          s.deleteReasoningChains('trimmed'),
        );
      } else if (roll < 0.3) {
        const keep = 1 + pick(4);
        await run('trimReasoningChains', [{ kind: 'trim', id: 'trimmed', value: keep }], () =>
          s.trimReasoningChains('trimmed', keep),
        );
      } else {
        const batch = Array.from({ length: 1 + pick(2) }, (_, part) => ({ writer, i, part }));
        const writes = batch.map((value) => ({ kind: 'chain' as const, id: 'trimmed', value }));
        await run('appendReasoningChains', writes, () => s.appendReasoningChains('trimmed', batch));
      }
    }
  };

  const overwrites = async (): Promise<void> => {
    for (let i = 0; going('overwrites', i); i += 1) {
      const value = valueOf('o', i);
      const roll = random();
      if (roll < 0.2) {
        const id = `o${pick(3)}`;
        const rawMessages = [0, 1].map((n) => ({ ...value, n }));
        const chunkInfo = { ...value, chunk: true };
        const writes: CrashWrite[] = [
          { kind: 'conversation', id, value },
          { kind: 'raw', id, value: rawMessages },
          { kind: 'chunk', id, value: chunkInfo },
        ];
        await run('storeConversationBatch', writes, () =>
          s.storeConversationBatch([{ conversationId: id, conversation: value, rawMessages, chunkInfo }]),
        );
      } else if (roll < 0.4) {
        const keys = [...new Set([`k${pick(3)}`, `k${pick(3)}`])];
        const entries = keys.map((key, n) => ({ key, data: { ...value, n } }));
        const writes = entries.map((e) => ({ kind: 'cache' as const, id: e.key, value: e.data }));
        await run('storeCacheEntries', writes, () => s.storeCacheEntries(entries));
      } else {
        const id = roll < 0.55 ? `o${pick(3)}` : roll < 0.7 ? `k${pick(3)}` : `s${pick(3)}`;
        if (id.startsWith('k')) {
          await run('storeCacheEntry', [{ kind: 'cache', id, value }], () => s.storeCacheEntry(id, value));
        } else if (id.startsWith('s')) {
          await run('storeSystemState', [{ kind: 'state', id, value }], () => s.storeSystemState(id, value));
        } else if (random() < 0.5) {
          await run('storeConversation', [{ kind: 'conversation', id, value }], () =>
            s.storeConversation(id, value),
          );
        } else {
          const messages = Array.from({ length: 1 + pick(3) }, (_, n) => ({ ...value, n }));
          await run('storeRawMessages', [{ kind: 'raw', id, value: messages }], () =>
            s.storeRawMessages(id, messages),
          );
        }
      }
    }
  };

  // One batch of every key, in four buckets (a cluster's batch is one script per bucket).
  const cacheBatches = async (): Promise<void> => {
    const keys = cacheBatchKeys().flat();
    for (let i = 0; going('cache', i); i += 1) {
      const entries = keys.map((key, n) => ({ key, data: { writer, i, n } }));
      const writes = entries.map((e) => ({ kind: 'cache' as const, id: e.key, value: e.data }));
      await run('storeCacheEntries', writes, () => s.storeCacheEntries(entries));
    }
  };

  // `deletes`: whole conversations (every kind, memories too), deleted one after another in each
  // lane. The first PRESTORED of each lane are stored before the child says it is ready (the
  // kill comes after that), so until the kill each lane is mostly inside a delete; after them a
  // lane stores each one before deleting it. A delete logs its id, value null.
  // Enough that the lanes are still deleting them when the kill comes (5-40 ms after ready).
  const PRESTORED = 150;
  const conversationCall = (lane: number, i: number) => {
    const id = `x${writer}${lane}.${i}`;
    const value = valueOf(`x${lane}`, i);
    const rawMessages = [0, 1].map((n) => ({ ...value, n }));
    const memories = [0, 1, 2].map((n) => ({ memoryId: `xm${n}`, data: { ...value, n } }));
    const chunkInfo = { ...value, chunk: true };
    const writes: CrashWrite[] = [
      { kind: 'conversation', id, value },
      { kind: 'raw', id, value: rawMessages },
      ...memories.map((m) => ({ kind: 'memory' as const, id, memoryId: m.memoryId, value: m.data })),
      { kind: 'chunk', id, value: chunkInfo },
    ];
    const item = { conversationId: id, conversation: value, rawMessages, memories, chunkInfo };
    return { id, store: () => run('storeConversationBatch', writes, () => s.storeConversationBatch([item])) };
  };
  const prestore = (lane: number) => async (): Promise<void> => {
    for (let i = 0; i < PRESTORED; i += 1) await conversationCall(lane, i).store();
  };
  const deleteLane = async (lane: number): Promise<void> => {
    for (let i = 0; going(`deletes${lane}`, i); i += 1) {
      const conversation = conversationCall(lane, i);
      if (i >= PRESTORED) await conversation.store();
      await run('deleteConversation', [{ kind: 'conversation', id: conversation.id, value: null }], () =>
        s.deleteConversation(conversation.id),
      );
    }
  };
  if (mode === 'deletes') {
    await Promise.all([0, 1, 2, 3].map((lane) => prestore(lane)()));
    emit({ ready: true });
  }

  const lanes =
    mode === 'cache'
      ? [cacheBatches()]
      : mode === 'deletes'
        ? [0, 1, 2, 3].map(deleteLane)
        : [memories(), chains(), trims(), overwrites()];
  await Promise.all(lanes);
  await s.shutdown();
  for (const client of clients) client.disconnect();
  emit({ end: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
