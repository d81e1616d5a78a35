/** The `EmbedderError` a call to an embedder rejects with (the test fails when it resolves or rejects otherwise). */
import { EmbedderError } from '../../src/index.js';

/** Awaits `promise`, expects an `EmbedderError` and returns it. */
export async function embedderFailure(promise: Promise<unknown>): Promise<EmbedderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbedderError);
  return error as EmbedderError;
}
