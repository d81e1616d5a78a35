/**
 * Server instructions per W7 memory write, indexed, per checkout (not part of `npm run bench`):
 * for each checkout given, a private `redis-server` under valgrind's callgrind on port 6497,
 * a store of 1,000 W7 memories written by that checkout, then 4 rounds of 300 of its own
 * `UPSERT_MEMORY` scripts (new memories, 50 conversations, the index on) sent as raw `EVALSHA`s
 * in one pipeline, with callgrind's instrumentation on for those calls only. Prints each
 * round's instructions per call: unlike CPU time, the count does not move with the machine's
 * load, so two scripts' costs compare on a busy machine too. Needs `valgrind`. With
 * `PROFILE_INDEX=0` the stores and the calls have the index off (W2's write); with
 * `PROFILE_WRITE=chain` the calls are single chain appends of the same texts (`APPEND_CHAINS`,
 * 50 agents, no limit) instead.
 * Run: `npx tsx bench/redis-w7-instructions.ts ../base .` (checkout roots).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { seededRandom, seedW7Memories, w7Text } from './random.js';
import { loadRedisCheckout as load, type RedisCheckout as Checkout } from './redis-checkout.js';

const PORT = 6497;
const ROUNDS = 4;
const CALLS = 300;
const INDEX = process.env.PROFILE_INDEX !== '0';
const CHAINS = process.env.PROFILE_WRITE === 'chain';

/** The script this run sends: the memory upsert, or (`PROFILE_WRITE=chain`) the chain append. */
function writeScript(c: Checkout): { sha: string; lua: string } {
  if (!CHAINS) return c.UPSERT_MEMORY;
  if (c.APPEND_CHAINS === undefined) throw new Error('this checkout has no APPEND_CHAINS in chains.ts');
  return c.APPEND_CHAINS;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The instructions callgrind counted in its newest dump in `dir`. */
function lastDumpTotal(dir: string): number {
  const dumps = readdirSync(dir)
    .filter((name) => /\.\d+\.\d+$/.test(name))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(dir, dumps[dumps.length - 1] ?? ''), 'utf8');
  return Number(/^totals: (\d+)/m.exec(text)?.[1]);
}

/** One round's `EVALSHA` arguments: new memories. */
function calls(c: Checkout, prefix: string, round: number, sentence: () => string): string[][] {
  const keys = new c.KeyLayout(prefix);
  const extractor = new c.TextExtractor({});
  return Array.from({ length: CALLS }, (_, i) => {
    const conversationId = `cg-r${round}-${i % 50}`;
    const record = { summary: sentence(), created_at: '2026-01-01T00:00:00.000Z' };
    const k = keys.conversation(conversationId);
    const spec = INDEX ? c.searchSpec(extractor, CHAINS ? 'reasoning_chains' : 'memories', record) : '';
    if (CHAINS) {
      const a = keys.agent(`cg-r${round}-${i % 50}`);
      return [writeScript(c).sha, '5', a.chains, a.chainAppends, a.agent, a.bucket.agents, a.bucket.counters]
        .concat([`t${round}-${i}`, '3600000', `cg-r${round}-${i % 50}`, '-1', INDEX ? '1' : '0'])
        .concat([c.searchOwner(`cg-r${round}-${i % 50}`), '1', JSON.stringify(record)], INDEX ? [spec] : []);
    }
    return [c.UPSERT_MEMORY.sha, '5', k.memories, k.memoryData, k.memoryCreated]
      .concat([k.bucket.conversationIds, k.bucket.counters, `w${i}`, JSON.stringify(record)])
      .concat([
        JSON.stringify(record.created_at),
        '1',
        conversationId,
        INDEX ? '1' : '0',
        c.searchOwner(conversationId),
        spec,
      ]);
  });
}

async function measure(root: string, dir: string): Promise<number[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.%p`, 'redis-server'].concat([
      '--port',
      String(PORT),
      '--save',
      '',
      '--appendonly',
      'no',
    ]),
    { stdio: 'ignore' },
  );
  const pid = String(server.pid);
  const control = (...args: string[]): void =>
    void execFileSync('callgrind_control', [...args, pid], { stdio: 'ignore' });
  try {
    for (;;) {
      await sleep(500);
      try {
        execFileSync('redis-cli', ['-p', String(PORT), 'ping'], { stdio: 'pipe' });
        break;
      } catch {
        // Not listening yet: valgrind starts the server slowly.
      }
    }
    const admin = new Redis({ port: PORT });
    const c = await load(root);
    const prefix = 'cg:';
    const store = c.createStorage('redis', {
      url: `redis://127.0.0.1:${PORT}`,
      keyPrefix: prefix,
      searchIndex: INDEX,
    });
    await store.initialize();
    await seedW7Memories(store, 1000);
    await store.shutdown();
    await admin.script('LOAD', writeScript(c).lua);
    const text = w7Text(seededRandom(11));
    const perCall: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const pipeline = admin.pipeline();
      for (const args of calls(c, prefix, round, () => text.sentence(20))) pipeline.call('EVALSHA', ...args);
      control('-z');
      control('-i', 'on');
      const failed = (await pipeline.exec())?.find(([error]) => error !== null);
      control('-i', 'off');
      control('-d');
      if (failed) throw failed[0];
      await sleep(300);
      perCall.push(lastDumpTotal(dir) / CALLS);
    }
    admin.disconnect();
    return perCall;
  } finally {
    server.kill('SIGTERM');
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  const roots = process.argv.slice(2);
  if (roots.length === 0) throw new Error('usage: redis-w7-instructions.ts <checkout> [<checkout> ...]');
  for (const [i, root] of roots.entries()) {
    const perCall = await measure(resolve(root), `/tmp/redis-w7-instructions/${process.pid}-${i}`);
    console.log(
      `${root}: ${perCall.map((n) => `${(n / 1000).toFixed(1)}k`).join(' ')} instructions per call`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
