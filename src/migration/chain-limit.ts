/**
 * The refusal of a target that would drop chains: one whose `maxReasoningChainsPerAgent` is
 * below the number of chains the source holds for an agent (each append past the limit would
 * remove the oldest, so the copy could never be complete).
 */
import { mapConcurrent } from '../core/concurrency.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { MigrationRefusedError, throwIfAborted } from './errors.js';
import { AGENT_ID, screenIds } from './screen.js';
import { quoteName } from '../core/shown-text.js';

/**
 * Rejects with {@link MigrationRefusedError} (reason `chain-limit`, naming the agent, its chain
 * count and the limit) when the target's `maxReasoningChainsPerAgent` is below the source's
 * chain count for any agent. Reads at most `limit + 1` chains per agent; writes nothing.
 */
export async function refuseChainLimit(
  source: StorageInterface,
  target: StorageInterface,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const limit = target.maxReasoningChainsPerAgent;
  // No agent can hold more than Number.MAX_SAFE_INTEGER chains.
  if (limit === null || limit >= Number.MAX_SAFE_INTEGER) return;
  // An agent the id rule refuses cannot be read; the copy reports it as a conflict.
  const agents = screenIds(AGENT_ID, await source.listAgents()).valid;
  await mapConcurrent(agents, concurrency, async (agentId) => {
    throwIfAborted(signal);
    if ((await source.loadReasoningChains(agentId, limit + 1)).length <= limit) return;
    const count = (await source.loadReasoningChains(agentId)).length;
    throw new MigrationRefusedError(
      'chain-limit',
      `Agent ${quoteName(agentId)} has ${count} reasoning chains in the source, more than the target's ` +
        `maxReasoningChainsPerAgent (${limit}): the copy would drop its oldest ${count - limit}. Raise the ` +
        'limit or trim the source first. Nothing was written',
    );
  });
}
