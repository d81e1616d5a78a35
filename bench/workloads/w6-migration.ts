/**
 * W6: migration records/s and peak RSS between backend pairs. Each subject's source is seeded
 * once; every round migrates it into a fresh target in a child process (see
 * `migrate-child.ts`), so peak RSS is the migration's own.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { config } from '../config.js';
import { alternate } from '../method.js';
import { toRows, type Row } from '../rows.js';
import { openSubject, writeSubjectsFor } from '../subjects.js';
import type { Backend, OpenedStore, StoreLocation, SubjectKind } from '../types.js';
import { chunkInfo, conversation, memory, rawMessage } from './data.js';
import { seed } from './seed.js';

/**
 * Source → target pairs, each backend once on each side: the issue's two (sqlite→postgres,
 * file→redis, whose speed-up over per-record copying is checked) and the two that close the
 * cycle.
 */
export const MIGRATION_PAIRS: Array<[Backend, Backend]> = [
  ['file', 'redis'],
  ['sqlite', 'postgres'],
  ['redis', 'file'],
  ['postgres', 'sqlite'],
];
/** Records per conversation: the conversation, 20 raw messages, 3 memories, chunk info. */
export const RECORDS_PER_CONVERSATION = 25;

/** What the parent tells the child process. */
export interface MigrateJob {
  subject: SubjectKind;
  from: Backend;
  to: Backend;
  source: StoreLocation;
  target: StoreLocation;
}

/** What a migration child reports. */
export interface ChildResult {
  ms: number;
  /** The child's CPU time (user + system) during the copy, opening and closing included. */
  cpuMs: number;
  maxRssMb: number;
  /** Records the library's migration counted as copied (absent for raw and Keyv). */
  records?: number;
}

/** Writes `conversations` conversations of W6's shape (untimed). */
export async function seedSource(opened: OpenedStore, conversations: number): Promise<void> {
  const { store } = opened;
  const body = conversation(0, 1024);
  await seed(store, conversations, 16, async (i) => {
    const id = `w6-${String(i).padStart(6, '0')}`;
    await store.storeConversation(id, body);
    await store.storeRawMessages(
      id,
      Array.from({ length: 20 }, (_, n) => rawMessage(i, n)),
    );
    for (let m = 0; m < 3; m += 1) await store.storeMemory(id, `mem-${m}`, memory(m));
    await store.storeChunkInfo(id, chunkInfo(i));
  });
}

/**
 * Runs one migration in a fresh child process of the checkout at `root` (default: this one),
 * so that another version of the library can be measured with the same job. The child runs
 * the bench's TypeScript through tsx, and the library from `<root>/dist` (or `<root>/src`: it
 * inherits `BENCH_SOURCE`; see `library-module.ts`).
 */
export function runChild(job: MigrateJob, root = process.cwd()): Promise<ChildResult> {
  const script = resolve(root, 'bench/workloads/migrate-child.ts');
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(job)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0)
        return fail(new Error(`migration child ${job.subject} ${job.from}->${job.to} failed: ${err}`));
      done(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

/** The issue's two pairs, whose speed-up target is checked (`migration-speedup.ts` measures them too). */
const ISSUE_SOURCES: Backend[] = ['file', 'sqlite'];

/**
 * Sizes migrated from `from`: the issue's pairs at the issue's 2,000 conversations; the pairs
 * that close the cycle at fewer by default (records/s does not depend on the size: see
 * `cycleMigrationSizes` in `config.ts`).
 */
export const migrationSizes = (from: Backend): number[] =>
  ISSUE_SOURCES.includes(from) ? config.migrationSizes : config.cycleMigrationSizes;

/** Runs W6 for the pair whose source is `from`, at every configured size. */
export async function runW6(from: Backend, location: StoreLocation): Promise<Row[]> {
  const to = MIGRATION_PAIRS.find(([source]) => source === from)![1];
  const targetSubjects = writeSubjectsFor(to);
  const subjects = writeSubjectsFor(from).filter((subject) => targetSubjects.includes(subject));
  const rows: Row[] = [];
  for (const size of migrationSizes(from)) {
    const source: StoreLocation = { ...location, name: `${location.name}s${size}` };
    const sources = new Map<SubjectKind, OpenedStore>();
    try {
      // `libraryUnindexed` migrates the library's source (see `migrate-child.ts`): nothing to seed.
      for (const subject of subjects.filter((s) => s !== 'libraryUnindexed')) {
        const opened = await openSubject(subject, from, source);
        sources.set(subject, opened);
        await seedSource(opened, size);
        await opened.store.close();
      }
      const medians = await alternate(
        subjects,
        async (subject, round) => {
          const target: StoreLocation = { ...location, name: `${location.name}t${size}r${round}` };
          try {
            const { ms, maxRssMb } = await runChild({ subject, from, to, source, target });
            return { records: (size * RECORDS_PER_CONVERSATION * 1000) / ms, rss: maxRssMb };
          } finally {
            await (await openSubject(subject, to, target)).drop();
          }
          // No warm-up round: every migration runs in a fresh process, cold for every subject alike.
        },
        0,
      );
      rows.push(
        ...toRows('W6', from, medians, [
          {
            metric: 'records',
            label: `migrate ${from} -> ${to}, ${size} conversations`,
            unit: 'records/s',
            size,
          },
          {
            metric: 'rss',
            label: `peak RSS ${from} -> ${to}, ${size} conversations`,
            unit: 'MB',
            headline: false,
            size,
          },
        ]),
      );
    } finally {
      for (const opened of sources.values()) await opened.drop();
    }
  }
  return rows;
}
