/** Small statistics helpers for combining rounds. */

/** Median of the finite numbers in `values` (mean of the middle two for an even count); NaN if none. */
export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The element of `items` whose key is the median of keys (the lower middle for an even count). */
export function medianItem(items, key) {
  const sorted = items.filter((item) => Number.isFinite(key(item))).sort((a, b) => key(a) - key(b));
  return sorted.length ? sorted[(sorted.length - 1) >> 1] : undefined;
}
