/** Order statistics for benchmark figures. */

/**
 * Returns the p-th percentile (0 < p <= 100) of values by the nearest-rank
 * method: the smallest value with at least p % of the values at or below it.
 * Throws on an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list is undefined');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100]. Received: ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1]!;
}
