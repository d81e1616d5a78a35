/**
 * The resume marker: how a migration recognises its own unfinished run in a non-empty target.
 *
 * The public `StorageInterface` has no place outside the user's data, and the engine uses
 * only the public API (so a user's own backend migrates too). The marker is therefore a
 * system-state entry under one reserved key, {@link MIGRATION_MARKER_KEY}: written before
 * the first record, removed once the migration has finished and verified, never copied
 * from a source, and left out of emptiness checks, counts and verification.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { JsonObject } from '../core/json.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { nowTimestamp, parseTimestamp } from '../core/time.js';
import { MarkerNotClearedError } from './errors.js';

/** How often a running migration writes its marker again (its heartbeat). */
export const MARKER_HEARTBEAT_MS = 5_000;
/** How long after its last heartbeat a marker counts as a run still going (another host's). */
export const MARKER_LEASE_MS = 30_000;

/** Run ids of the migrations running in this process. */
const liveRuns = new Set<string>();

/** The reserved system-state key of the resume marker. */
export const MIGRATION_MARKER_KEY = '__connectome_migration__';

/** What the marker records about the unfinished run. */
export interface MigrationMarker {
  /** Identity of the source store (no secrets). */
  sourceId: string;
  /** When the run (first attempt) started. */
  startedAt: string;
  /** Whether the run was allowed to write into a non-empty target. */
  merge: boolean;
  /** The run writing it now (markers of versions before 2026-12-04 have none of these four). */
  runId?: string;
  /** Its process id, on {@link host}. */
  pid?: number;
  /** The host name of its machine. */
  host?: string;
  /** When it last wrote the marker. */
  heartbeatAt?: string;
}

/** What a target holds before a migration writes to it. */
export interface TargetState {
  /** True when it holds no record (the marker aside). */
  empty: boolean;
  /** The marker of an unfinished migration, if any. */
  marker: MigrationMarker | null;
}

function parseMarker(value: JsonObject | null): MigrationMarker | null {
  if (value === null) return null;
  const { source_id: sourceId, started_at: startedAt, merge, run_id: runId, pid, host, heartbeat_at } = value;
  if (typeof sourceId !== 'string' || typeof startedAt !== 'string') return null;
  const marker: MigrationMarker = { sourceId, startedAt, merge: merge === true };
  if (typeof runId === 'string' && typeof heartbeat_at === 'string') {
    marker.runId = runId;
    marker.heartbeatAt = heartbeat_at;
    if (typeof pid === 'number') marker.pid = pid;
    if (typeof host === 'string') marker.host = host;
  }
  return marker;
}

/** Whether process `pid` of this machine exists. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the run that wrote `marker` may still be writing: one of this process that has not
 * ended, one of another live process of this machine whose heartbeat is recent, or one of
 * another machine whose heartbeat is recent. A marker of a run that crashed or was killed
 * (its process gone) or fell silent for {@link MARKER_LEASE_MS} is not.
 */
export function markerRunning(marker: MigrationMarker, nowMs = Date.now()): boolean {
  if (marker.runId === undefined || marker.heartbeatAt === undefined) return false;
  // Parsed as the core reads its own timestamps (microseconds, an offset); unreadable: not running.
  const beat = parseTimestamp(marker.heartbeatAt);
  if (beat === null || !(nowMs - beat < MARKER_LEASE_MS)) return false;
  if (marker.host !== hostname() || marker.pid === undefined) return true;
  if (marker.pid === process.pid) return liveRuns.has(marker.runId);
  return processExists(marker.pid);
}

/** Reads the target's resume marker (`null` when absent or not ours). */
export async function readMarker(target: StorageInterface): Promise<MigrationMarker | null> {
  return parseMarker(await target.loadSystemState(MIGRATION_MARKER_KEY));
}

/** Writes the resume marker; call before the first record is written. */
export async function writeMarker(target: StorageInterface, marker: MigrationMarker): Promise<void> {
  await target.storeSystemState(MIGRATION_MARKER_KEY, {
    source_id: marker.sourceId,
    started_at: marker.startedAt,
    merge: marker.merge,
    ...(marker.runId === undefined
      ? {}
      : {
          run_id: marker.runId,
          pid: marker.pid ?? null,
          host: marker.host ?? null,
          heartbeat_at: marker.heartbeatAt ?? null,
        }),
    note: 'connectome-storage migration in progress; run the same migration again to finish it',
  });
}

/** `marker` as written by a run starting now in this process (its run id, pid, host, heartbeat). */
export function claimMarker(marker: MigrationMarker): MigrationMarker {
  const runId = randomUUID();
  liveRuns.add(runId);
  return { ...marker, runId, pid: process.pid, host: hostname(), heartbeatAt: nowTimestamp() };
}

/** Writes a claimed `marker`; when the write fails the run is over, so its claim ends with it. */
export async function writeClaimedMarker(target: StorageInterface, marker: MigrationMarker): Promise<void> {
  try {
    await writeMarker(target, marker);
  } catch (error) {
    if (marker.runId !== undefined) liveRuns.delete(marker.runId);
    throw error;
  }
}

/**
 * Writes `marker` (a claimed one) again every {@link MARKER_HEARTBEAT_MS} until the returned
 * stop is called, so that another run sees this one going. A failed heartbeat is ignored: the
 * copy's own writes fail too then. Stop ends the run's claim and waits for a write in flight,
 * so none lands after the marker is cleared.
 */
export function keepMarkerAlive(target: StorageInterface, marker: MigrationMarker): () => Promise<void> {
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(() =>
      writeMarker(target, { ...marker, heartbeatAt: nowTimestamp() }).catch(() => undefined),
    );
  }, MARKER_HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (marker.runId !== undefined) liveRuns.delete(marker.runId);
    await pending;
  };
}

/**
 * Removes the resume marker at the end of a successful run. A removal that fails is checked with
 * one read: one whose reply was lost (a dropped connection) may have landed, and a run whose
 * marker is gone is done (until 2026-12-06 it failed, and its rerun was refused as
 * `target-not-empty`); otherwise {@link MarkerNotClearedError}.
 */
export async function clearMarker(target: StorageInterface): Promise<void> {
  try {
    await target.deleteSystemState(MIGRATION_MARKER_KEY);
  } catch (error) {
    const gone = await target.loadSystemState(MIGRATION_MARKER_KEY).then(
      (marker) => marker === null,
      () => false,
    );
    if (!gone) throw new MarkerNotClearedError(MIGRATION_MARKER_KEY, error);
  }
}

/** A new marker for a run starting now (claimed by it). */
export function newMarker(sourceId: string, merge: boolean): MigrationMarker {
  return claimMarker({ sourceId, startedAt: nowTimestamp(), merge });
}

/** System-state keys of the user's data: every key but the marker's. */
export function userStateKeys(keys: readonly string[]): string[] {
  return keys.filter((key) => key !== MIGRATION_MARKER_KEY);
}

/**
 * Whether the target is empty and whether it holds a migration marker. Reads only, and only
 * the first page of each listing (at most two ids): a large target is not listed whole. One
 * call after another: on a pooled backend, calls at once would each open a connection before
 * the copy needs them.
 */
export async function inspectTarget(target: StorageInterface): Promise<TargetState> {
  const marker = await readMarker(target);
  const holds = async (page: Promise<{ items: string[] }>): Promise<boolean> => (await page).items.length > 0;
  const empty =
    !(await holds(target.listAllConversationIds({ limit: 1 }))) &&
    !(await holds(target.listAgents({ limit: 1 }))) &&
    !(await holds(target.listCacheKeys({ limit: 1 }))) &&
    // Two: the marker may be one of them.
    userStateKeys((await target.listSystemStateKeys({ limit: 2 })).items).length === 0;
  return { empty, marker };
}
