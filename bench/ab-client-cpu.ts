/**
 * Interleaved A/B of CPU per operation (not part of `npm run bench`): this library from two
 * checkouts (`main` = the checkout at MAIN, required; `wt` = this one), and on Redis raw ioredis and
 * Keyv too, alternating subjects every round; medians of client CPU (`process.cpuUsage()`)
 * and server CPU (`/proc/<pid>/stat`: redis-server, or every postgres process) per operation.
 * Run: `[BACKEND=sqlite|postgres] [SUBJECTS=main,wt,raw,keyv] npx tsx bench/ab-client-cpu.ts
 * <cache|cache64|conv|memory> [rounds] [calls]`; `REDIS_URL` and `REDIS_PID` select a private
 * Redis server. The other checkout needs its `node_modules`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { median } from './method.js';
import { cpuSecondsOf, pidsNamed } from './server-cpu.js';
const WT = process.env.WT ?? process.cwd();
/** The other checkout (subject `main`), e.g. a git worktree of main with its `node_modules`. */
function mainCheckout(): string {
  const dir = process.env.MAIN;
  if (dir === undefined) throw new Error('set MAIN to the other checkout (e.g. a git worktree of main)');
  return dir;
}
const BACKEND = process.env.BACKEND ?? 'redis';
/** A private server (REDIS_URL + REDIS_PID) keeps other clients' work out of the server CPU. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const op = process.argv[2] ?? 'cache';
const ROUNDS = Number(process.argv[3] ?? 7);
const CALLS = Number(process.argv[4] ?? 3000);
const serverPids = (): number[] =>
  BACKEND === 'sqlite' ? [] : pidsNamed(BACKEND === 'redis' ? 'redis-server' : 'postgres');
/** Server CPU seconds so far (utime + stime of the server's processes). */
let pids: number[] | undefined;
function serverCpu(): number {
  // Listed at the first measurement, once every subject has opened its connections.
  pids ??= process.env.REDIS_PID ? [Number(process.env.REDIS_PID)] : serverPids();
  return cpuSecondsOf(pids);
}
const filler = (length: number, seed: number): string =>
  `${seed}:`.padEnd(length, 'lorem ipsum dolor sit amet consectetur adipiscing elit ');
const cacheValue = (n: number) => ({ n, text: filler(1000, n) });
const conversation = (i: number, bytes = 4096) => ({
  title: `Conversation ${i}`,
  model: 'bench',
  messages: Array.from({ length: 8 }, (_, n) => ({
    role: n % 2 ? 'assistant' : 'user',
    content: filler(Math.max(8, Math.floor(bytes / 8) - 40), i * 10 + n),
  })),
});
const memory = (n: number) => ({ summary: filler(160, n), importance: n % 5 });
const values = Array.from({ length: 16 }, (_, n) => cacheValue(n));
const convs = Array.from({ length: 10 }, (_, n) => conversation(n));
type S = {
  set(k: string, v: object, ttl: number): Promise<unknown>;
  get(k: string): Promise<unknown>;
  sc(k: string, v: object): Promise<unknown>;
  lc(k: string): Promise<unknown>;
  sm(c: string, m: string, v: object): Promise<unknown>;
  close(): Promise<unknown>;
};
async function lib(dir: string, tag: string, searchIndex: boolean): Promise<S> {
  const mod = await import(`${dir}/src/index.ts`);
  const s =
    BACKEND === 'sqlite'
      ? mod.createStorage('sqlite', { dbPath: `/tmp/ab${process.pid}-${tag}.db`, searchIndex })
      : BACKEND === 'postgres'
        ? mod.createStorage('postgres', {
            url: 'postgres://postgres:postgres@127.0.0.1:5432/test',
            schema: `ab${process.pid}_${tag}`,
            searchIndex,
          })
        : mod.createStorage('redis', {
            url: REDIS_URL,
            keyPrefix: `ab${process.pid}:${tag}:`,
            searchIndex,
          });
  await s.initialize();
  return {
    set: (k, v, t) => s.storeCacheEntry(k, v, t),
    get: (k) => s.loadCacheEntry(k),
    sc: (k, v) => s.storeConversation(k, v),
    lc: (k) => s.loadConversation(k),
    sm: (c, m, v) => s.storeMemory(c, m, v),
    close: () => s.shutdown(),
  };
}
async function raw(): Promise<S> {
  const { Redis } = await import(`${WT}/node_modules/ioredis/built/index.js`);
  const r = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const p = `ab${process.pid}:raw:`;
  const parse = (t: string | null) => (t === null ? null : JSON.parse(t));
  return {
    set: (k, v, t) => r.set(p + k, JSON.stringify(v), 'PX', t * 1000),
    get: async (k) => parse(await r.get(p + k)),
    sc: (k, v) => r.set(p + 'c' + k, JSON.stringify(v)),
    lc: async (k) => parse(await r.get(p + 'c' + k)),
    sm: (c, m, v) => r.hset(p + 'm' + c, m, JSON.stringify({ memory_id: m, ...v })),
    close: () => r.quit(),
  };
}
async function keyv(): Promise<S> {
  const { default: Keyv } = await import('keyv');
  const { default: KeyvRedis } = await import('@keyv/redis');
  const k = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: `ab${process.pid}kv` });
  return {
    set: (key, v, t) => k.set(key, v, t * 1000),
    get: (key) => k.get(key),
    sc: (key, v) => k.set('c' + key, v),
    lc: (key) => k.get('c' + key),
    sm: async () => undefined,
    close: () => k.disconnect(),
  };
}
type Op = (s: S, n: number, tag: string) => Promise<unknown>;
const ops: Record<string, [Op, number]> = {
  cache: [
    async (s, n, t) => {
      await s.set(`${t}${n}`, values[n % 16]!, 3600);
      if ((await s.get(`${t}${n}`)) === null) throw new Error('miss');
    },
    1,
  ],
  cache64: [
    async (s, n, t) => {
      await s.set(`${t}${n}`, values[n % 16]!, 3600);
      if ((await s.get(`${t}${n}`)) === null) throw new Error('miss');
    },
    64,
  ],
  conv: [
    async (s, n, t) => {
      await s.sc(`${t}${n}`, convs[n % 10]!);
      await s.lc(`${t}${n}`);
    },
    1,
  ],
  memory: [(s, n, t) => s.sm(`${t}c${n % 50}`, `m${n}`, memory(n)), 1],
};
async function run(s: S, o: Op, conc: number, count: number, tag: string) {
  let next = 0;
  const worker = async () => {
    while (next < count) await o(s, next++, tag);
  };
  const c0 = process.cpuUsage();
  const s0 = serverCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return {
    ops: (count * 1000) / ms,
    client: (c.user + c.system) / count,
    server: ((serverCpu() - s0) * 1e6) / count,
  };
}
async function main() {
  const [o, conc] = ops[op]!;
  const idx = op === 'memory' ? process.env.INDEX === '1' : false;
  const which = (process.env.SUBJECTS ?? (BACKEND === 'redis' ? 'main,wt,raw,keyv' : 'main,wt')).split(',');
  const subjects: Record<string, S> = {};
  for (const w of which)
    subjects[w] =
      w === 'main'
        ? await lib(mainCheckout(), 'main', idx)
        : w === 'wt'
          ? await lib(WT, 'wt', idx)
          : w === 'raw'
            ? await raw()
            : await keyv();
  const samples: Record<string, Array<{ ops: number; client: number; server: number }>> = {};
  for (let round = 0; round <= ROUNDS; round++) {
    const order = [...which];
    for (let i = 0; i < round % order.length; i++) order.push(order.shift()!);
    for (const name of order) {
      const r = await run(subjects[name]!, o, conc, round === 0 ? 500 : CALLS, `${op}r${round}-`);
      if (round > 0) (samples[name] ??= []).push(r);
    }
  }
  console.log(`## ${op} conc ${conc}, ${ROUNDS}x${CALLS}, load ${loadavg()[0]!.toFixed(2)}`);
  for (const [name, list] of Object.entries(samples)) {
    console.log(
      `${name.padEnd(5)} ${median(list.map((r) => r.ops))
        .toFixed(0)
        .padStart(6)} ops/s  client ${median(list.map((r) => r.client))
        .toFixed(1)
        .padStart(6)} us/op  server ${median(list.map((r) => r.server))
        .toFixed(1)
        .padStart(6)} us/op`,
    );
  }
  for (const s of Object.values(subjects)) await s.close();
  if (BACKEND === 'sqlite') {
    for (const f of readdirSync('/tmp')) if (f.startsWith(`ab${process.pid}-`)) rmSync(`/tmp/${f}`);
    return;
  }
  if (BACKEND === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client('postgres://postgres:postgres@127.0.0.1:5432/test');
    await client.connect();
    for (const tag of which) await client.query(`DROP SCHEMA IF EXISTS ab${process.pid}_${tag} CASCADE`);
    await client.end();
    return;
  }
  const { Redis } = await import(`${WT}/node_modules/ioredis/built/index.js`);
  const r = new Redis(REDIS_URL);
  for (const pat of [`ab${process.pid}:*`, `keyv:ab${process.pid}kv*`, `ab${process.pid}kv*`]) {
    let cur = '0';
    do {
      const [c, keys] = await r.scan(cur, 'MATCH', pat, 'COUNT', 5000);
      cur = c;
      if (keys.length) await r.unlink(...keys);
    } while (cur !== '0');
  }
  await r.quit();
}
void main();
