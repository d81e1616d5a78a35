/**
 * What a child process of the multi-process suite did, as it reports it on stdout: every
 * write and delete in the order it finished them, so the parent can check the end state.
 */

/** One finished call of a child (`value` is what it wrote; deletes carry none). */
export interface LoggedOp {
  /** The writer's lane (its calls in one lane run one after another, in log order). */
  lane: 'memories' | 'chains' | 'kept' | 'overwrites' | 'deletes' | 'expiry' | 'trims';
  kind: 'memory' | 'chain' | 'conversation' | 'raw' | 'chunk' | 'cache' | 'state';
  /** `store` or `delete` (`deleteConversation` for the conversation kinds). */
  op: 'store' | 'delete';
  /** Conversation, agent, cache key or state key. */
  id: string;
  /** The memory id (memories only). */
  memoryId?: string;
  value?: unknown;
  /** A cache store's TTL in seconds (none: no expiry). */
  ttlSeconds?: number;
}

/** A child's whole report (one JSON line on stdout). */
export interface ChildReport {
  writer: string;
  ops: LoggedOp[];
}

/** The short TTL of the `expiry` lane's entries: long gone by the time the parent checks. */
export const SHORT_TTL_SECONDS = 0.05;

/** What the `trims` lane's `trimReasoningChains` calls keep. */
export const TRIM_KEEP = 5;

/** Chains kept per agent by the `kept` lane's instance (`maxReasoningChainsPerAgent`). */
export const KEPT_CHAINS = 10;
