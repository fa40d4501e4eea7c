/**
 * Largest-remainder (Hamilton) apportionment: integer counts that sum to `n` and are as close as
 * possible to `weights * n`. Each count is the floor of its quota; the seats left over go to the
 * largest fractional parts. Ties between equal fractional parts are broken by `tieOrder` (a
 * permutation of the indices, earlier wins), so a seeded shuffle avoids always favouring the
 * first categories; without it, lower indices win.
 */
export function apportion(weights: readonly number[], n: number, tieOrder?: readonly number[]): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`apportion: n must be a non-negative integer, got ${n}`);
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0) || weights.some((w) => !(w >= 0))) {
    throw new RangeError("apportion: weights must be non-negative with a positive sum");
  }
  const quotas = weights.map((w) => (w / total) * n);
  const counts = quotas.map((q) => Math.floor(q + 1e-9));
  let left = n - counts.reduce((s, c) => s + c, 0);
  const rank = new Map<number, number>();
  (tieOrder ?? weights.map((_, i) => i)).forEach((idx, pos) => rank.set(idx, pos));
  const order = weights
    .map((_, i) => i)
    .filter((i) => weights[i]! > 0)
    .sort((a, b) => {
      const fa = quotas[a]! - counts[a]!;
      const fb = quotas[b]! - counts[b]!;
      if (Math.abs(fa - fb) > 1e-9) return fb - fa;
      return (rank.get(a) ?? a) - (rank.get(b) ?? b);
    });
  for (let k = 0; left > 0 && order.length > 0; k++, left--) { const i = order[k % order.length]!; counts[i] = counts[i]! + 1; }
  return counts;
}
