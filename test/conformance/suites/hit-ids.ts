/** Search-hit helpers shared by the conformance suites. */
import type { SearchHit } from '../../../src/core/index.js';

/** A hit's kind and ids as one string: `kind:owner[:position or memory id]`. */
export function hitId(hit: SearchHit): string {
  switch (hit.kind) {
    case 'raw_messages':
      return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
    case 'memories':
      return `memories:${hit.conversationId}:${hit.memoryId}`;
    case 'reasoning_chains':
      return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
    default:
      return `${hit.kind}:${hit.conversationId}`;
  }
}
