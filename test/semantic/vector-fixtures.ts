/** Deterministic vectors and a brute-force reference search for the vector-store tests. */
import { randomVector, seededRandom } from '../../bench/random.js';
import { readdir } from 'node:fs/promises';
import type { IndexSignature, VectorFilter, VectorItem, VectorMetric } from '../../src/index.js';
import { writerLockEntry } from '../../src/semantic/vector-stores/file/writer-lock.js';

// The seeded generator is shared with the benchmarks (`bench/random.ts`).
export { randomVector, seededRandom };

/** The data files of a file vector store's folder, sorted: every entry but its writer lock. */
export async function dataFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== writerLockEntry()).sort();
}

/** The signature most tests use. */
export function signatureOf(
  dimensions: number,
  metric: VectorMetric = 'cosine',
  embedderId = 'test:v1',
): IndexSignature {
  return { embedderId, dimensions, metric };
}

/**
 * `count` records: every 20th (5 %) belongs to agent `agent_small`, every 20th from offset 7
 * to conversation `conv_small`; kinds cycle through memory, reasoning_chain, raw_message.
 */
export function scopedItems(count: number, dimensions: number, seed = 1): VectorItem[] {
  const random = seededRandom(seed);
  const kinds = ['memory', 'reasoning_chain', 'raw_message'];
  return Array.from({ length: count }, (_, i) => ({
    id: `item_${String(i).padStart(5, '0')}`,
    vector: randomVector(random, dimensions),
    kind: kinds[i % 3] as string,
    agentId: i % 20 === 0 ? 'agent_small' : `agent_${i % 7}`,
    ...(i % 20 === 7
      ? { conversationId: 'conv_small' }
      : i % 2 === 0
        ? { conversationId: `conv_${i % 11}` }
        : {}),
  }));
}

function distance(metric: VectorMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    sq += (x - y) * (x - y);
  }
  return metric === 'cosine' ? 1 - dot / Math.sqrt(na * nb) : Math.sqrt(sq);
}

/** The ids a correct store returns: brute force over `items`, nearest first. */
export function bruteForce(
  items: VectorItem[],
  query: ArrayLike<number>,
  k: number,
  metric: VectorMetric,
  filter: VectorFilter = {},
): string[] {
  return items
    .filter(
      (item) =>
        (filter.agentId === undefined || item.agentId === filter.agentId) &&
        (filter.conversationId === undefined || item.conversationId === filter.conversationId) &&
        (filter.kinds === undefined || filter.kinds.includes(item.kind)),
    )
    .map((item) => ({ id: item.id, d: distance(metric, query, item.vector) }))
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
    .slice(0, k)
    .map((entry) => entry.id);
}
