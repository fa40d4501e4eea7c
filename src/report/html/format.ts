/** Number formatting for the report: one place, so tables and charts agree. */

export const DASH = "–";

export function fixed(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(digits);
}

export function percent(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)} %`;
}

/** A signed difference of shares in percentage points: "+12 pp", "−3 pp". */
export function points(x: number, digits = 0): string {
  const v = x * 100;
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return `0 pp`;
  return `${v > 0 ? "+" : "\u2212"}${s} pp`;
}

export function signed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return DASH;
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return s;
  return `${x > 0 ? "+" : "\u2212"}${s}`;
}

export function usd(x: number): string {
  if (x === 0) return "$0";
  if (x < 0.01) return `$${x.toFixed(4)}`;
  return `$${x.toFixed(2)}`;
}

export function integer(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
