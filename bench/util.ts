/** Small helpers shared by the benchmark sections: statistics, formatting, Markdown tables, progress. */

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export const mean = (xs: readonly number[]): number => (xs.length > 0 ? sum(xs) / xs.length : Number.NaN);

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const min = (xs: readonly number[]): number => (xs.length > 0 ? Math.min(...xs) : Number.NaN);
export const max = (xs: readonly number[]): number => (xs.length > 0 ? Math.max(...xs) : Number.NaN);

/** Fixed decimals, "n/a" for NaN. */
export const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

export const pct = (x: number, digits = 0): string => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : "n/a");

export type Align = "l" | "r";

/** A GitHub-flavoured Markdown table; columns right-aligned unless told otherwise. */
export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const al = headers.map((_, i) => align?.[i] ?? (i === 0 ? "l" : "r"));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length), 3));
  const pad = (s: string, i: number): string => (al[i] === "r" ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => `| ${headers.map((_, i) => pad(cells[i] ?? "", i)).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (al[i] === "r" ? `${"-".repeat(w - 1)}:` : `:${"-".repeat(w - 1)}`)).join(" | ")} |`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

const started = performance.now();

/** A progress line on stderr with the time since the bench started. */
export function progress(message: string): void {
  const s = (performance.now() - started) / 1000;
  process.stderr.write(`[${s.toFixed(1).padStart(6)} s] ${message}\n`);
}

/** Total variation and max |p - q| between two distributions of equal length. */
export function tvAndMax(p: readonly number[], q: readonly number[]): { tv: number; maxAbsDiff: number } {
  let tv = 0;
  let m = 0;
  p.forEach((x, i) => {
    const d = Math.abs(x - (q[i] ?? 0));
    tv += d;
    m = Math.max(m, d);
  });
  return { tv: tv / 2, maxAbsDiff: m };
}
