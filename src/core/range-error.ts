/**
 * Whether an error is a `RangeError` (a stack overflow, an array too long), told by its name:
 * it may come from another realm (a vm context, as under Jest), where `instanceof` fails. The
 * deep-value fallbacks and the Redis error mapping ask it.
 */
export function isRangeError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'RangeError';
}
