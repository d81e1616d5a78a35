/**
 * Child process of the burst conformance suite (`suites/burst.ts`), started under a low
 * descriptor limit (`ulimit -n`): opens the store its first argument describes (a
 * {@link ChildStoreSpec} as JSON), makes a burst of calls of several kinds all at once, reads
 * every one back and prints one {@link BurstReport} JSON line.
 * Usage: tsx burst.child.ts <spec json> <calls per kind>
 */
import type { Cluster } from 'ioredis';
import { openChildStore } from './child-store.js';
import type { ChildStoreSpec } from './harness.js';

/** What the child saw: failed calls (by kind, with one message each) and values not read back. */
export interface BurstReport {
  calls: number;
  failed: Record<string, number>;
  firstError: string | null;
  notReadBack: string[];
}

const clients: Cluster[] = [];

async function main(): Promise<void> {
  const [specJson, countText] = process.argv.slice(2);
  if (specJson === undefined || countText === undefined)
    throw new Error('usage: <spec json> <calls per kind>');
  const spec = JSON.parse(specJson) as ChildStoreSpec;
  const n = Number(countText);
  const s = await openChildStore(spec, {}, clients);
  // Conversations the burst loads, stored beforehand a few at a time.
  for (let i = 0; i < n; i += 25) {
    await Promise.all(Array.from({ length: 25 }, (_, j) => s.storeConversation(`old${i + j}`, { i: i + j })));
  }
  const failed: Record<string, number> = {};
  let firstError: string | null = null;
  let calls = 0;
  const call = async (kind: string, run: () => Promise<unknown>): Promise<unknown> => {
    calls += 1;
    try {
      return await run();
    } catch (error) {
      failed[kind] = (failed[kind] ?? 0) + 1;
      firstError ??= `${kind}: ${String(error instanceof Error ? error.message : error)}`;
      return undefined;
    }
  };
  const loaded: unknown[] = new Array(n);
  const batch = Array.from({ length: n }, (_, i) => ({ key: `batch${i}`, data: { i }, ttlSeconds: 3600 }));
  await Promise.all([
    ...Array.from({ length: n }, (_, i) =>
      call('storeConversation', () => s.storeConversation(`new${i}`, { i })),
    ),
    ...Array.from({ length: n }, (_, i) =>
      call('storeCacheEntry', () => s.storeCacheEntry(`k${i}`, { i }, 3600)),
    ),
    ...Array.from({ length: n }, (_, i) =>
      call('loadConversation', async () => (loaded[i] = await s.loadConversation(`old${i}`))),
    ),
    call('storeCacheEntries', () => s.storeCacheEntries(batch)),
  ]);
  const notReadBack: string[] = [];
  for (let i = 0; i < n; i += 1) {
    if ((await s.loadConversation(`new${i}`))?.i !== i) notReadBack.push(`new${i}`);
    if (((await s.loadCacheEntry(`k${i}`)) as { i?: number } | null)?.i !== i) notReadBack.push(`k${i}`);
    if (((await s.loadCacheEntry(`batch${i}`)) as { i?: number } | null)?.i !== i)
      notReadBack.push(`batch${i}`);
    if ((loaded[i] as { i?: number } | null | undefined)?.i !== i)
      notReadBack.push(`old${i} (loaded in the burst)`);
  }
  await s.shutdown();
  await Promise.all(clients.map((client) => client.quit()));
  const report: BurstReport = { calls, failed, firstError, notReadBack: notReadBack.slice(0, 20) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
