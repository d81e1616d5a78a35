/**
 * The resume marker: how a migration recognises its own unfinished run in a non-empty target.
 *
 * The public `StorageInterface` has no place outside the user's data, and the engine uses
 * only the public API (so a user's own backend migrates too). The marker is therefore a
 * system-state entry under one reserved key, {@link MIGRATION_MARKER_KEY}: written before
 * the first record, removed once the migration has finished and verified, never copied
 * from a source, and left out of emptiness checks, counts and verification.
 */
import type { JsonObject } from '../core/json.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { nowTimestamp } from '../core/time.js';

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
  const { source_id: sourceId, started_at: startedAt, merge } = value;
  if (typeof sourceId !== 'string' || typeof startedAt !== 'string') return null;
  return { sourceId, startedAt, merge: merge === true };
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
    note: 'connectome-storage migration in progress; run the same migration again to finish it',
  });
}

/** Removes the resume marker. */
export async function clearMarker(target: StorageInterface): Promise<void> {
  await target.deleteSystemState(MIGRATION_MARKER_KEY);
}

/** A new marker for a run starting now. */
export function newMarker(sourceId: string, merge: boolean): MigrationMarker {
  return { sourceId, startedAt: nowTimestamp(), merge };
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
