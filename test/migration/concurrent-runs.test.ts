/**
 * Two migrations into one target at once (an overlapping cron job, a retry while the first
 * still runs): the second is refused while the first's marker shows it running, so chains are
 * not appended twice; a run that ended, crashed or went silent does not hold the target.
 */
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import {
  migrateStorage,
  MIGRATION_MARKER_KEY,
  MigrationAbortedError,
  MigrationRefusedError,
} from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { AGENT_IDS, EXPIRY_WAIT_MS, openStore, populate, sleep, snapshot } from './support.js';

/** A marker as a run of `pid` on `host` whose last heartbeat was `ageMs` ago writes it. */
async function plantMarker(target: InMemoryStorage, pid: number, host: string, ageMs: number): Promise<void> {
  await target.storeSystemState(MIGRATION_MARKER_KEY, {
    source_id: 'memory:src',
    started_at: new Date(Date.now() - 60_000).toISOString(),
    merge: false,
    run_id: 'another-run',
    pid,
    host,
    heartbeat_at: new Date(Date.now() - ageMs).toISOString(),
  });
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
}

describe('migrations into one target at once', () => {
  it('refuses a second run while the first is copying, and the first copies every chain once', async () => {
    const source = await openStore();
    await populate(source, 3); // long enough a copy that the second run starts well before it ends
    // The short-lived entry expires now, not between the snapshots of target and source.
    await sleep(EXPIRY_WAIT_MS);
    const target = await openStore();
    let second: Promise<unknown> | undefined;
    const first = migrateStorage(source, target, {
      sourceId: 'memory:src',
      onProgress: () => {
        // The same command again, while the first has written its marker and is copying.
        second ??= migrateStorage(source, target, { sourceId: 'memory:src' }).catch((e: unknown) => e);
      },
    });
    expect((await first).ok).toBe(true);
    const refused = await second;
    expect(refused).toBeInstanceOf(MigrationRefusedError);
    expect(refused).toMatchObject({ reason: 'migration-running' });
    expect((refused as Error).message).toContain(`process ${process.pid} on ${hostname()}`);
    for (const agent of AGENT_IDS) {
      expect(await target.loadReasoningChains(agent)).toEqual(await source.loadReasoningChains(agent));
    }
    expect(await snapshot(target)).toEqual(await snapshot(source));
    // Finished: the marker is gone, and the same command runs again (a merge into the copy).
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toBeNull();
    expect((await migrateStorage(source, target, { sourceId: 'memory:src', merge: true })).ok).toBe(true);
  });

  it('resumes at once after a run of this process ended in a failure', async () => {
    const source = await openStore();
    await populate(source);
    await sleep(EXPIRY_WAIT_MS);
    const target = await openStore();
    const controller = new AbortController();
    const aborted = await migrateStorage(source, target, {
      sourceId: 'memory:src',
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(MigrationAbortedError);
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toMatchObject({ pid: process.pid });
    const resumed = await migrateStorage(source, target, { sourceId: 'memory:src' });
    expect(resumed).toMatchObject({ ok: true, resumed: true });
  });

  it('refuses while another live process of this machine, or another machine, keeps its marker fresh', async () => {
    const source = await openStore();
    await populate(source);
    await sleep(EXPIRY_WAIT_MS);
    for (const [pid, host] of [
      [process.ppid, hostname()],
      [12345, 'another-machine'],
    ] as const) {
      const target = await openStore();
      await plantMarker(target, pid, host, 1_000);
      await expect(migrateStorage(source, target, { sourceId: 'memory:src' })).rejects.toMatchObject({
        reason: 'migration-running',
      });
      expect(await target.listAllConversationIds()).toEqual([]);
    }
  });

  it('takes over a marker whose process is gone or whose heartbeat is older than the lease', async () => {
    const source = await openStore();
    await populate(source);
    await sleep(EXPIRY_WAIT_MS);
    for (const [pid, host, ageMs] of [
      [deadPid(), hostname(), 1_000],
      [12345, 'another-machine', 31_000],
    ] as const) {
      const target = await openStore();
      await plantMarker(target, pid, host, ageMs);
      expect(await migrateStorage(source, target, { sourceId: 'memory:src' })).toMatchObject({
        ok: true,
        resumed: true,
      });
    }
  });
});
