/**
 * Conformance: a burst of calls made all at once by a process with a low descriptor limit
 * (`ulimit -n 256`, macOS's default soft limit) all succeed. A child process (`burst.child.ts`)
 * makes about 2,000 concurrent calls: new conversations, new cache entries, loads of stored
 * conversations and one cache batch; every call must resolve and every value read back. Skipped
 * where the store cannot be opened by another process (in-memory stores).
 */
import { readChildReport, startChild } from '../child-writer.js';
import type { BurstReport } from '../burst.child.js';
import type { SuiteContext } from '../context.js';

/** Calls per kind (four kinds: about 2,000 calls in all). */
const CALLS_PER_KIND = 500;
/** The child's descriptor limit. */
const FD_LIMIT = 256;

function runBurst(specJson: string): Promise<BurstReport> {
  return readChildReport(
    startChild('burst.child.ts', [specJson, String(CALLS_PER_KIND)], FD_LIMIT),
    'burst child',
  );
}

/** Registers the burst test (skipped where instances do not share a store). */
export function burstTests(ctx: SuiteContext): void {
  const maybe = ctx.harness.sharedStore ? describe : describe.skip;
  maybe(`a burst of calls under a descriptor limit of ${FD_LIMIT}`, () => {
    it('about 2,000 concurrent stores, loads and a batch all succeed and read back', async () => {
      const store = await ctx.newStore();
      const spec = store.childSpec;
      if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
      const report = await runBurst(JSON.stringify(spec));
      expect({
        failed: report.failed,
        firstError: report.firstError,
        notReadBack: report.notReadBack,
      }).toEqual({
        failed: {},
        firstError: null,
        notReadBack: [],
      });
      expect(report.calls).toBe(3 * CALLS_PER_KIND + 1);
    }, 120_000);
  });
}
