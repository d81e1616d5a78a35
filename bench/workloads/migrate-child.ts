/**
 * Child process of W6: migrates one subject's source store into an empty target and prints
 * `{ ms, cpuMs, maxRssMb, records }` (`cpuMs`: this process's user + system CPU time during the
 * copy, which machine load moves less than `ms`; `records`: what the library's summary counts
 * as copied). The library uses `migrateStorage` (verification off, default
 * concurrency 4) from the built package (or the sources with `BENCH_SOURCE=src`, which this
 * process inherits from the bench; see `library-module.ts`) into a target with its defaults (`library`) or with
 * `searchIndex: false` (`libraryUnindexed`, no index to maintain, like raw and Keyv); raw and Keyv copy every record through the same bench interface with the
 * same concurrency, since neither has a migration of its own.
 */
import { libraryStorage } from '../library.js';
import { library } from '../library-module.js';
import { throughput, timeMs } from '../method.js';
import { openSubject } from '../subjects.js';
import type { BenchStore } from '../types.js';
import type { MigrateJob } from './w6-migration.js';

const CONCURRENCY = 4;

async function copyAll(source: BenchStore, target: BenchStore): Promise<void> {
  const ids = await source.listAllConversationIds();
  await throughput(ids.length, CONCURRENCY, async (n) => {
    const id = ids[n]!;
    const [data, raw, memories, chunks] = await Promise.all([
      source.loadConversation(id),
      source.loadRawMessages(id),
      source.loadMemories(id),
      source.loadChunkInfo(id),
    ]);
    if (data) await target.storeConversation(id, data as Parameters<BenchStore['storeConversation']>[1]);
    if (raw.length > 0) await target.storeRawMessages(id, raw);
    for (const { memory_id: memoryId, ...rest } of memories)
      await target.storeMemory(id, String(memoryId), rest);
    if (chunks) await target.storeChunkInfo(id, chunks);
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as MigrateJob;
  let ms: number;
  let records: number | undefined;
  const cpuStart = process.cpuUsage();
  if (job.subject === 'library' || job.subject === 'libraryUnindexed') {
    // Both read the one source the library subject seeded; only the target's configuration differs.
    const source = libraryStorage(job.from, job.source);
    const target = libraryStorage(job.to, job.target, job.subject === 'library');
    ms = await timeMs(async () => {
      const summary = await library.migrateStorage(source, target, { verify: false });
      if (!summary.ok) throw new Error(`migration not ok: ${JSON.stringify(summary.conflicts)}`);
      records = Object.values(summary.counts).reduce((sum, count) => sum + count.copied, 0);
    });
    await source.shutdown();
    await target.shutdown();
  } else {
    const source = await openSubject(job.subject, job.from, job.source);
    const target = await openSubject(job.subject, job.to, job.target);
    ms = await timeMs(() => copyAll(source.store, target.store));
    await source.store.close();
    await target.store.close();
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(JSON.stringify({ ms, cpuMs, maxRssMb: process.resourceUsage().maxRSS / 1024, records }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
