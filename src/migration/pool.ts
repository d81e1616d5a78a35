/** Bounded concurrency over a list, with progress and cancellation, for copy and verify passes. */
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
 * Runs `work` for every item with at most `context.concurrency` calls in flight, reporting
 * a phase-start, one event per finished item and a phase-end. Items are taken in order, so
 * only the in-flight ones are held in memory beyond the list itself. The first failure
 * stops new work and is rethrown once the calls in flight have settled.
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
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < total) {
      const item = items[next++] as T;
      try {
        throwIfAborted(signal);
        await work(item);
      } catch (error) {
        failure ??= { error };
        return;
      }
      done += 1;
      onProgress?.({ type: 'item', stage, phase, done, total });
    }
  };
  const workers = Math.max(1, Math.min(context.concurrency, total));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  onProgress?.({ type: 'phase-end', stage, phase, done, total });
}
