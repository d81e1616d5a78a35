/**
 * A burst of mixed PostgreSQL calls made at once (not part of `npm run bench`): loads, cache
 * writes and conversation deletes (a transaction each), thirds of each, on a store with the
 * default pool (`max` 10) and `connectionTimeoutMillis` as given; prints the wall time, the
 * calls rejected (and the first message), client CPU per call. Compares this library's sources
 * with another checkout's (`MAIN`), alternating.
 * Runs the library's sources through tsx (this checkout's and `MAIN`'s, alike).
 * Run: `MAIN=<other checkout> npx tsx bench/pg-burst.ts <calls> [connectionTimeoutMillis|default] [rounds]`.
 */
export {};

const WT = process.cwd();
const PG_URL = 'postgres://postgres:postgres@127.0.0.1:5432/test';
const CALLS = Number(process.argv[2] ?? 10_000);
const TIMEOUT =
  process.argv[3] === undefined || process.argv[3] === 'default' ? undefined : Number(process.argv[3]);
const ROUNDS = Number(process.argv[4] ?? 1);

type Store = {
  initialize(): Promise<unknown>;
  shutdown(): Promise<unknown>;
  storeConversation(id: string, c: object): Promise<unknown>;
  loadConversation(id: string): Promise<unknown>;
  storeCacheEntry(k: string, v: object): Promise<unknown>;
  deleteConversation(id: string): Promise<unknown>;
};

async function burst(dir: string, tag: string): Promise<string> {
  const mod = await import(`${dir}/src/index.ts`);
  const schema = `burst${process.pid}_${tag}`;
  const s = mod.createStorage('postgres', {
    url: PG_URL,
    schema,
    searchIndex: false,
    ...(TIMEOUT !== undefined ? { connectionTimeoutMillis: TIMEOUT } : {}),
  }) as Store;
  await s.initialize();
  await s.storeConversation('c', { title: 'x' });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const calls = Array.from({ length: CALLS }, (_, i) =>
    i % 3 === 0
      ? s.loadConversation('c')
      : i % 3 === 1
        ? s.storeCacheEntry(`k${i % 100}`, { i })
        : s.deleteConversation(`gone${i}`),
  );
  const results = await Promise.allSettled(calls);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  await s.shutdown();
  const { default: pg } = await import('pg');
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const first =
    failed[0] === undefined ? '' : `  first: ${String((failed[0].reason as Error).message).slice(0, 160)}`;
  return (
    `${tag.padEnd(4)} ${CALLS} calls, timeout ${TIMEOUT ?? 'default'}: ${ms.toFixed(0)} ms, ` +
    `${failed.length} rejected (${((100 * failed.length) / CALLS).toFixed(1)}%), ` +
    `client ${((cpu.user + cpu.system) / CALLS).toFixed(1)} us/call${first}`
  );
}

async function main(): Promise<void> {
  const main = process.env.MAIN;
  if (main === undefined) throw new Error('set MAIN to the other checkout');
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<[string, string]> = [
      [main, 'main'],
      [WT, 'wt'],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [dir, tag] of order) console.log(await burst(dir, tag));
  }
}
void main();
