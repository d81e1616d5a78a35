/** Reciprocal rank fusion: merges several ranked lists (e.g. full-text and vector results) into one. */
import { describeValue, ValidationError } from '../core/errors.js';

/** An entry of a ranked list: an id, or an object with one. */
export type RankedEntry = string | { readonly id: string };

/** Options of {@link reciprocalRankFusion}. */
export interface FusionOptions {
  /** The RRF constant: larger values flatten the advantage of top ranks. Default 60. */
  k?: number;
  /** Keep only the best `limit` results. */
  limit?: number;
}

/** One fused result. */
export interface FusedResult {
  /** The entry's id. */
  id: string;
  /** Sum over lists of `1 / (k + rank)`, ranks counted from 1. */
  score: number;
  /** The entry's rank (from 1) in each input list, `null` where it is absent. */
  ranks: (number | null)[];
}

/** Default RRF constant, from Cormack, Clarke and Büttcher (2009). */
export const DEFAULT_RRF_K = 60;

/**
 * Fuses ranked lists by reciprocal rank: each entry scores `Σ 1 / (k + rank)` over the lists
 * it appears in; a repeat of an id within one list counts at its best rank only. Highest score
 * first; ties go to the better best rank, then to the id.
 */
export function reciprocalRankFusion(
  lists: readonly (readonly RankedEntry[])[],
  options: FusionOptions = {},
): FusedResult[] {
  const k = options.k ?? DEFAULT_RRF_K;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0)
    throw new ValidationError('k', `must be a finite number ≥ 0, got ${describeValue(k)}`);
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ValidationError('limit', `must be a whole number ≥ 1, got ${describeValue(limit)}`);
  }
  if (!Array.isArray(lists))
    throw new ValidationError('lists', `must be an array of ranked lists, got ${describeValue(lists)}`);
  const fused = new Map<string, FusedResult>();
  lists.forEach((list, listIndex) => {
    if (!Array.isArray(list))
      throw new ValidationError(`lists[${listIndex}]`, `must be an array, got ${describeValue(list)}`);
    list.forEach((entry: RankedEntry, position) => {
      const id = typeof entry === 'string' ? entry : (entry as { id?: unknown } | null)?.id;
      if (typeof id !== 'string')
        throw new ValidationError(
          `lists[${listIndex}][${position}]`,
          'must be an id or an object with a string id',
        );
      let result = fused.get(id);
      if (result === undefined) {
        result = { id, score: 0, ranks: lists.map(() => null) };
        fused.set(id, result);
      }
      if (result.ranks[listIndex] !== null) return;
      result.ranks[listIndex] = position + 1;
      result.score += 1 / (k + position + 1);
    });
  });
  const bestRank = (result: FusedResult): number => Math.min(...result.ranks.map((rank) => rank ?? Infinity));
  const sorted = [...fused.values()].sort(
    (a, b) => b.score - a.score || bestRank(a) - bestRank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return limit === undefined ? sorted : sorted.slice(0, limit);
}
