/**
 * The target side of a migration's start: whether it may write into the target, and the
 * resume marker it writes (or takes over) there before the first record.
 */
import { MigrationRefusedError } from './errors.js';
import { canonicalStoreId, sameStoreId } from './identity.js';
import {
  claimMarker,
  inspectTarget,
  MARKER_LEASE_MS,
  markerRunning,
  type MigrationMarker,
  newMarker,
  writeClaimedMarker,
} from './marker.js';
import type { StorageInterface } from '../core/storage-interface.js';

/** What a run found in its target and may do there. */
export interface TargetPlan {
  /** Whether the target held this run's own unfinished run. */
  resumed: boolean;
  /** Whether it writes as a merge. */
  merge: boolean;
  /** What to tell the user about the target. */
  warning?: string;
  /** The marker this run wrote (claimed), kept alive while it runs. */
  marker?: MigrationMarker;
}

/**
 * Checks the target and writes (or keeps) the resume marker. A marker is this run's own only
 * when `sourceId` was given and equals the marker's: without one, nothing proves that the
 * unfinished run read the same store (the backend type alone does not; stores do not expose
 * an identity of their own), so any marker refuses the run unless it merges.
 */
export async function planTarget(
  target: StorageInterface,
  sourceId: string | undefined,
  sourceType: string,
  merge: boolean,
): Promise<TargetPlan> {
  const state = await inspectTarget(target);
  if (state.marker !== null && markerRunning(state.marker)) {
    const { sourceId: from, startedAt, pid, host, heartbeatAt } = state.marker;
    throw new MigrationRefusedError(
      'migration-running',
      `Another migration is writing into this target (from ${from}, started ${startedAt}, process ${pid ?? '?'} on ` +
        `${host ?? '?'}, last heartbeat ${heartbeatAt ?? '?'}); two at once would copy chains twice. Wait for it to ` +
        `end (a run whose process is gone counts as ended at once, one on another machine ${MARKER_LEASE_MS / 1000} s ` +
        'after its last heartbeat), then run again. Nothing was written',
    );
  }
  let warning: string | undefined;
  // Compared in canonical form: a marker written with the host spelled otherwise (`127.0.0.1`
  // for `localhost`, or by a version whose identities kept the host as given) is this run's.
  if (state.marker !== null && sourceId !== undefined && sameStoreId(state.marker.sourceId, sourceId)) {
    const marker = claimMarker(state.marker);
    await writeClaimedMarker(target, marker);
    return { resumed: true, merge: merge || state.marker.merge, marker };
  }
  if (state.marker !== null) {
    const { sourceId: from, startedAt } = state.marker;
    if (!merge) {
      const unproven =
        sourceId === undefined
          ? `The target holds an unfinished migration (from ${from}, started ${startedAt}), and without sourceId ` +
            'this run cannot tell whether it reads the same source; pass the sourceId that run was given to resume it (a run given ' +
            'none can only be finished as a merge)'
          : `The target holds an unfinished migration from another source (${from}, started ${startedAt}); finish that one`;
      throw new MigrationRefusedError(
        'foreign-marker',
        `${unproven}, or pass --merge (merge: true) to copy into it anyway. Nothing was written`,
      );
    }
    warning = `the target held an unfinished migration from ${from}; its marker was replaced`;
  } else if (!state.empty && !merge) {
    throw new MigrationRefusedError(
      'target-not-empty',
      'The target is not empty; pass --merge (merge: true) to copy into it anyway (source records overwrite records with ' +
        'the same id or key). Nothing was written',
    );
  }
  // Without a sourceId the marker names the backend type only, marked as such: no later run resumes it as its own.
  const markerId = sourceId === undefined ? `${sourceType} (no sourceId given)` : canonicalStoreId(sourceId);
  const marker = newMarker(markerId, merge);
  await writeClaimedMarker(target, marker);
  return { resumed: false, merge, warning, marker };
}
