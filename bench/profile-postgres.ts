/**
 * Profiles the PostgreSQL rows of the benchmark per operation: wall-clock, client CPU, server
 * CPU (the postgres backend processes this process is connected to, from /proc), round trips
 * (driver `query` calls) and pool checkouts, for the library with and without the search index,
 * the raw driver and Keyv. Subjects alternate within each round; medians over the rounds.
 *
 * `PROFILE_ONLY=W1,W4s` picks rows (W3load: `loadReasoningChains(agent, 10)` at 1,000 chains;
 * W8: a list stored again one message longer, 1 to 300; W9mem, W9chains, W9cache: batches of 100 records;
 * W9load: `loadCacheEntries` of 100 stored keys; W9delmem: `deleteMemories` of 100 of 200 stored);
 * `PROFILE_ROUNDS` (default 5); `PROFILE_SUBJECTS=lib,raw` (`libSizes`: the library with
 * `statsSizeMaxAgeMillis: 1000`).
 * Runs on this machine only (reads /proc): `npx tsx bench/profile-postgres.ts`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import pg from 'pg';
import { createStorage } from '../src/index.js';
import { dropSchema } from './cleanup.js';
import { config } from './config.js';
import { benchStoreOf } from './library.js';
import { openKeyv } from './keyv/adapter.js';
import { median } from './method.js';
import { openRawPostgres } from './raw/postgres.js';
import type { BenchStore, OpenedStore } from './types.js';
import { cacheValue, chain, conversation, memory, rawMessage } from './workloads/data.js';

const counters = { queries: 0, connects: 0 };
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  counters.queries += 1;
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;
const poolConnect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
  counters.connects += 1;
  return (poolConnect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof poolConnect;

/** Local TCP ports of this process's sockets. */
function ownPorts(): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9]!)) ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

const monitor = new pg.Client({ connectionString: config.postgresUrl });

/** CPU ticks (utime + stime) of each postgres backend connected to this process. */
async function serverTicks(): Promise<Map<number, number>> {
  const ports = ownPorts();
  const { rows } = await monitor.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()',
    [ports],
  );
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

const TICK_MS = 10;

interface Sample {
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
  queries: number;
  connects: number;
}

/** Measures `ops` operations done by `fn`, per operation. */
async function measure(ops: number, fn: () => Promise<void>): Promise<Sample> {
  const ticks0 = await serverTicks();
  const q0 = { ...counters };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const q1 = { ...counters };
  const ticks1 = await serverTicks();
  let ticks = 0;
  for (const [pid, value] of ticks1) ticks += value - (ticks0.get(pid) ?? 0);
  return {
    wallMs: wallMs / ops,
    clientCpuMs: (cpu.user + cpu.system) / 1000 / ops,
    serverCpuMs: (ticks * TICK_MS) / ops,
    queries: (q1.queries - q0.queries) / ops,
    connects: (q1.connects - q0.connects) / ops,
  };
}

type SubjectName = 'libSizes' | 'lib' | 'libNoIndex' | 'main' | 'mainNoIndex' | 'raw' | 'keyv';

/** `createStorage` of another checkout (`PROFILE_MAIN`, e.g. /work/main), for A/B runs. */
async function mainCreateStorage(): Promise<typeof createStorage> {
  const root = process.env.PROFILE_MAIN ?? '/work/main';
  return ((await import(`${root}/src/index.ts`)) as { createStorage: typeof createStorage }).createStorage;
}

async function openLib(
  name: string,
  searchIndex: boolean,
  create = createStorage,
  extra: { statsSizeMaxAgeMillis?: number } = {},
): Promise<OpenedStore> {
  const schema = `prof_${name}`;
  await dropSchema(schema);
  const s = create('postgres', { url: config.postgresUrl, schema, searchIndex, ...extra });
  await s.initialize();
  const store = benchStoreOf(s);
  return {
    store,
    drop: async () => {
      await s.shutdown();
      await dropSchema(schema);
    },
  };
}

async function openSubject(subject: SubjectName, tag: string): Promise<OpenedStore> {
  const location = { name: `prof_${tag}`, dir: '/tmp' };
  switch (subject) {
    case 'lib':
      return openLib(`${tag}_lib`, true);
    case 'libNoIndex':
      return openLib(`${tag}_noidx`, false);
    case 'libSizes':
      // getStorageStats reusing sizes measured less than a second ago (W5stats rows).
      return openLib(`${tag}_sizes`, true, createStorage, { statsSizeMaxAgeMillis: 1000 });
    case 'main':
      return openLib(`${tag}_main`, true, await mainCreateStorage());
    case 'mainNoIndex':
      return openLib(`${tag}_mainnoidx`, false, await mainCreateStorage());
    case 'raw':
      return openRawPostgres(location);
    case 'keyv':
      return openKeyv('postgres', location);
  }
}

async function pool(count: number, concurrency: number, op: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** A row: ops per measurement, and the measured work of round `r`. */
interface RowSpec {
  ops: number;
  run: (store: BenchStore, r: number) => Promise<void>;
  setup?: (store: BenchStore) => Promise<void>;
}

const big = Array.from({ length: 10 }, (_, i) => conversation(i));
const small = conversation(0, 300);
const seedTo = async (store: BenchStore, size: number): Promise<void> => {
  const have = (await store.listConversations()).length;
  await pool(size - have, 16, (n) =>
    store.storeConversation(`w5-${String(have + n).padStart(7, '0')}`, small).then(() => undefined),
  );
};

const ROWS: Record<string, RowSpec> = {
  W1: {
    ops: 150,
    run: async (store, r) => {
      for (let i = 0; i < 150; i += 1) {
        await store.storeConversation(`w1-${r}-${i}`, big[i % 10]!);
        if ((await store.loadConversation(`w1-${r}-${i}`)) === null) throw new Error('W1 not loaded');
      }
    },
  },
  W2: {
    ops: 300,
    run: async (store, r) => {
      for (let k = 0; k < 300; k += 1) await store.storeMemory(`w2-${r}`, `mem-${k}`, memory(k));
    },
  },
  W3: {
    ops: 300,
    run: async (store, r) => {
      for (let k = 0; k < 300; k += 1) await store.storeReasoningChain(`w3-${r}`, chain(k));
    },
  },
  W3load: {
    ops: 500,
    setup: async (store) => {
      for (let k = 0; k < 1000; k += 1) await store.storeReasoningChain('w3load', chain(k));
    },
    run: async (store) => {
      for (let i = 0; i < 500; i += 1) {
        if ((await store.loadReasoningChains('w3load', 10)).length !== 10) throw new Error('W3 load');
      }
    },
  },
  W8: {
    ops: 300,
    run: async (store, r) => {
      const list = Array.from({ length: 300 }, (_, n) => rawMessage(r, n));
      for (let k = 1; k <= 300; k += 1) await store.storeRawMessages(`w8-${r}`, list.slice(0, k));
    },
  },
  W4s: {
    ops: 300,
    run: async (store, r) => {
      for (let n = 0; n < 300; n += 1) {
        await store.storeCacheEntry(`w4s-${r}-${n}`, cacheValue(n % 16), 3600);
        if ((await store.loadCacheEntry(`w4s-${r}-${n}`)) === null) throw new Error('W4 not loaded');
      }
    },
  },
  W4c: {
    ops: 1280,
    run: (store, r) =>
      pool(1280, 64, async (n) => {
        await store.storeCacheEntry(`w4c-${r}-${n}`, cacheValue(n % 16), 3600);
        if ((await store.loadCacheEntry(`w4c-${r}-${n}`)) === null) throw new Error('W4 not loaded');
      }),
  },
  // W9: a batch of 100 new memories of a new conversation, or 100 chain appends of a new agent.
  W9mem: {
    ops: 20,
    run: async (store, r) => {
      for (let g = 0; g < 20; g += 1) {
        const items = Array.from({ length: 100 }, (_, n) => ({ memoryId: `m${n}`, data: memory(n) }));
        await store.storeMemories(`w9m-${r}-${g}`, items);
      }
    },
  },
  W9cache: {
    ops: 20,
    run: async (store, r) => {
      for (let g = 0; g < 20; g += 1) {
        const entries = Array.from({ length: 100 }, (_, n) => ({
          key: `w9x-${r}-${g}-${n}`,
          data: cacheValue(n % 16),
          ttlSeconds: 3600,
        }));
        await store.storeCacheEntries(entries);
      }
    },
  },
  // loadCacheEntries of 100 keys the setup stored (1 KB values), 20 batches per round.
  W9load: {
    ops: 20,
    setup: async (store) => {
      for (let g = 0; g < 20; g += 1) {
        const entries = Array.from({ length: 100 }, (_, n) => ({
          key: `w9l-${g}-${n}`,
          data: cacheValue(n % 16),
          ttlSeconds: 3600,
        }));
        await store.storeCacheEntries(entries);
      }
    },
    run: async (store) => {
      for (let g = 0; g < 20; g += 1) {
        const loaded = await store.loadCacheEntries(Array.from({ length: 100 }, (_, n) => `w9l-${g}-${n}`));
        if (loaded.some((value) => value === null)) throw new Error('W9load: an entry did not load');
      }
    },
  },
  // deleteMemories of every other memory of a conversation of 200 the setup stored (one per
  // batch of every round, warm-up included), 20 batches per round.
  W9delmem: {
    ops: 20,
    setup: async (store) => {
      const rounds = Number(process.env.PROFILE_ROUNDS ?? 5);
      const items = Array.from({ length: 200 }, (_, n) => ({ memoryId: `m${n}`, data: memory(n) }));
      for (let r = 0; r <= rounds; r += 1)
        for (let g = 0; g < 20; g += 1) await store.storeMemories(`w9d-${r}-${g}`, items);
    },
    run: async (store, r) => {
      const ids = Array.from({ length: 100 }, (_, n) => `m${2 * n}`);
      for (let g = 0; g < 20; g += 1) await store.deleteMemories(`w9d-${r}-${g}`, ids);
    },
  },
  W9chains: {
    ops: 20,
    run: async (store, r) => {
      for (let g = 0; g < 20; g += 1)
        await store.appendReasoningChains(
          `w9c-${r}-${g}`,
          Array.from({ length: 100 }, (_, n) => chain(n)),
        );
    },
  },
};
for (const size of [1000, 10000]) {
  const calls = size === 1000 ? 40 : 8;
  const setup = (store: BenchStore) => seedTo(store, size);
  ROWS[`W5list${size}`] = {
    ops: calls,
    setup,
    run: async (s) => {
      for (let i = 0; i < calls; i += 1) await s.listConversations();
    },
  };
  ROWS[`W5all${size}`] = {
    ops: calls,
    setup,
    run: async (s) => {
      for (let i = 0; i < calls; i += 1) await s.listAllConversationIds();
    },
  };
  ROWS[`W5stats${size}`] = {
    ops: calls,
    setup,
    run: async (s) => {
      for (let i = 0; i < calls; i += 1) await s.getStorageStats();
    },
  };
}

async function main(): Promise<void> {
  await monitor.connect();
  const only = process.env.PROFILE_ONLY?.split(',') ?? Object.keys(ROWS);
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 5);
  const subjects = (process.env.PROFILE_SUBJECTS?.split(',') ?? [
    'lib',
    'libNoIndex',
    'raw',
    'keyv',
  ]) as SubjectName[];
  const stores = new Map<SubjectName, OpenedStore>();
  for (const subject of subjects)
    stores.set(subject, await openSubject(subject, `${process.pid}_${subject}`));
  try {
    for (const rowName of only) {
      const row = ROWS[rowName];
      if (!row) throw new Error(`no row ${rowName}`);
      const samples = new Map<SubjectName, Sample[]>(subjects.map((s) => [s, []]));
      for (const subject of subjects) await row.setup?.(stores.get(subject)!.store);
      for (let r = -1; r < rounds; r += 1) {
        const order = subjects.map((_, i) => subjects[(i + r + subjects.length) % subjects.length]!);
        for (const subject of order) {
          const sample = await measure(row.ops, () => row.run(stores.get(subject)!.store, r + 1));
          if (r >= 0) samples.get(subject)!.push(sample);
        }
      }
      console.log(`\n${rowName} (per op, medians of ${rounds})`);
      console.log('subject      wall ms  clientCPU ms  serverCPU ms  queries  connects');
      for (const [subject, list] of samples) {
        const m = (key: keyof Sample) => median(list.map((s) => s[key]));
        console.log(
          `${subject.padEnd(11)} ${m('wallMs').toFixed(3).padStart(8)} ${m('clientCpuMs').toFixed(3).padStart(13)} ` +
            `${m('serverCpuMs').toFixed(3).padStart(13)} ${m('queries').toFixed(2).padStart(8)} ${m('connects').toFixed(2).padStart(9)}`,
        );
      }
    }
  } finally {
    for (const opened of stores.values()) await opened.drop();
    await monitor.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
