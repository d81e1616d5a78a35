/** Bounded concurrency over a list, with progress and cancellation, for copy and verify passes. */
import { mapConcurrent } from '../core/concurrency.js';
import { throwIfAborted } from './errors.js';
import type { MigrationPhase, MigrationStage, ProgressListener } from './types.js';

/** Where a pass reports its progress. */
export interface PassContext {
  stage: MigrationStage;
  onProgress: ProgressListener | undefined;
  signal: AbortSignal | undefined;
  concurrency: number;
}

/**
 * Runs `work` for every item with at most `context.concurrency` calls in flight (at least
 * one), reporting a phase-start, one event per finished item and a phase-end. Items are taken
 * in order, so only the in-flight ones are held in memory beyond the list itself. Errors follow
 * {@link mapConcurrent}: the first failure (or abort) stops new work and is rethrown once the
 * calls in flight have settled; no phase-end is reported then.
 */
export async function runPhase<T>(
  context: PassContext,
  phase: MigrationPhase,
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  const { stage, onProgress, signal } = context;
  const total = items.length;
  onProgress?.({ type: 'phase-start', stage, phase, total });
  let done = 0;
  await mapConcurrent(items, Math.max(1, context.concurrency), async (item) => {
    throwIfAborted(signal);
    await work(item);
    done += 1;
    onProgress?.({ type: 'item', stage, phase, done, total });
  });
  onProgress?.({ type: 'phase-end', stage, phase, done, total });
}

/** Splits `items` into consecutive groups of at most `size`. */
export function inGroups<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) groups.push(items.slice(start, start + size));
  return groups;
}

/**
 * {@link runPhase} over consecutive groups of at most `groupSize` items (one batch call each):
 * progress still counts items, one event per finished group.
 */
export async function runGroupedPhase<T>(
  context: PassContext,
  phase: MigrationPhase,
  items: readonly T[],
  groupSize: number,
  work: (group: T[]) => Promise<void>,
): Promise<void> {
  const { stage, onProgress, signal } = context;
  const total = items.length;
  onProgress?.({ type: 'phase-start', stage, phase, total });
  let done = 0;
  await mapConcurrent(inGroups(items, groupSize), Math.max(1, context.concurrency), async (group) => {
    throwIfAborted(signal);
    await work(group);
    done += group.length;
    onProgress?.({ type: 'item', stage, phase, done, total });
  });
  onProgress?.({ type: 'phase-end', stage, phase, done, total });
}

/**
 * Waits for every promise, then rejects with the first rejection (in list order) if any: no
 * write is still running when a failed copy is reported.
 */
export async function settleAll(promises: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
