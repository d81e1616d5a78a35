/**
 * What a `ConfigError` of `initialize()` advises when the vector store holds another
 * embedder's vectors: switch the store to this embedder and re-embed, or, on a read-only open
 * (which can run neither the vector store's `reset()` nor `reindex()`), keep the embedder the
 * index was built with or switch from a writable open.
 */
import type { IndexSignature } from '../../semantic/vector-stores/types.js';

/**
 * The advice for a store opening with `signature` (this embedder's); `reusable`: a built-in
 * vector store, which a failed `initialize()` leaves to be given again (any other is closed).
 */
export function switchAdvice(signature: IndexSignature, readOnly: boolean, reusable: boolean): string {
  const reset =
    `reset({ embedderId: ${JSON.stringify(signature.embedderId)}, dimensions: ` +
    `${signature.dimensions}, metric: "cosine" })`;
  if (readOnly) {
    return (
      'With a store open read-only, which can neither reset its vector store nor reindex(): give it ' +
      'the embedder the index was built with, or switch embedders from a writable open of the ' +
      `store (call its vector store's ${reset}, then initialize() it and call reindex()); ` +
      'read-only opens with this embedder work after that' +
      (reusable ? '.' : ' (this vector store instance is closed).')
    );
  }
  return reusable
    ? `With a store: call the vector store's ${reset} (this instance may be given again), then ` +
        'initialize() the store and call reindex().'
    : `With a store: on a new vector store instance for the same place, call ${reset} and ` +
        'close() it; then initialize() a store given new semantic instances and call reindex() ' +
        '(this vector store instance is closed).';
}
