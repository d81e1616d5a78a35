/**
 * Writes the file backend's index segments in the background, after the write that changed
 * their data file has returned. A segment is derived data checked against its data file's
 * identity before every use (see `search-segments.ts`), so it needs no lock, fsync or rename
 * before the caller is answered: this process searches the segment it keeps in memory at once,
 * and another process (or this one after a crash) that finds the segment missing, older or
 * damaged indexes the data file itself. Writes to one segment in quick succession (a loop of
 * appends to one memories file) leave only the newest to write.
 */
import { removeSegment, type Segment, writeSegment } from './search-segments.js';

/** How long a segment waits before it is written, so that a run of updates to it writes it once. */
export const SEGMENT_WRITE_DELAY_MS = 100;

/** Reports a segment that could not be written or removed (the next search rebuilds it). */
export type SegmentFailure = (action: 'update' | 'remove', file: string, error: unknown) => void;

/** The segment files waiting to be written (or removed: `null`), newest content per file. */
export class SegmentWriter {
  private readonly pending = new Map<string, Segment | null>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /**
   * @param baseDir the store's base folder (the search folder is recreated under it if removed).
   * @param failed told of each segment that could not be written or removed.
   */
  constructor(
    private readonly baseDir: string,
    private readonly failed: SegmentFailure,
  ) {}

  /** Queues `segment` to be written to `file`, replacing what was queued for it. */
  write(file: string, segment: Segment): void {
    this.queue(file, segment);
  }

  /** Queues the removal of `file`, replacing a write queued for it. */
  remove(file: string): void {
    this.queue(file, null);
  }

  /** The segment queued for `file` (`null`: its removal), or `undefined` when nothing is queued. */
  queued(file: string): Segment | null | undefined {
    return this.pending.get(file);
  }

  /** Writes everything queued now (at shutdown, before a rebuild); resolves once done. */
  async flush(): Promise<void> {
    while (this.running !== undefined || this.pending.size > 0) await (this.running ?? this.run());
  }

  private queue(file: string, segment: Segment | null): void {
    // Re-inserted last, so a segment written again keeps waiting behind the others.
    this.pending.delete(file);
    this.pending.set(file, segment);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.running !== undefined) return;
    this.timer = setTimeout(() => void this.run(), SEGMENT_WRITE_DELAY_MS);
    // Pending segments never keep a process alive: one lost at exit is rebuilt when needed.
    this.timer.unref();
  }

  /** Writes the segments queued so far, one at a time (holding at most one thread-pool worker). */
  private run(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    this.running = (async () => {
      for (const [file, segment] of batch) {
        try {
          if (segment === null) await removeSegment(file);
          else await writeSegment(this.baseDir, file, segment);
        } catch (error) {
          this.failed(segment === null ? 'remove' : 'update', file, error);
        }
      }
    })().finally(() => {
      this.running = undefined;
      // Segments queued meanwhile wait for the next round.
      if (this.pending.size > 0) this.schedule();
    });
    return this.running;
  }
}
