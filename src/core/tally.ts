import type { Assignment, Request } from "./request.js";
import { cellKey, type Target } from "./target.js";

/** Finds the cell of each factor that a set of labels falls in. */
export class CellIndex {
  private readonly index: Map<string, number>[];

  constructor(readonly target: Target) {
    this.index = target.factors.map((f) => new Map(f.cells.map((c, i) => [cellKey(c), i])));
  }

  /** Index of the cell of factor `f` these labels fall in, or -1 if a label is unknown or missing. */
  cellOf(f: number, labels: Readonly<Record<string, string | null>>): number {
    const attrs = this.target.factors[f]!.attributes;
    const parts: string[] = [];
    for (const a of attrs) {
      const v = labels[a];
      if (v === null || v === undefined) return -1;
      parts.push(v);
    }
    return this.index[f]!.get(cellKey(parts)) ?? -1;
  }
}

/**
 * Counts per cell of every factor: what has been kept so far (from observations) and what is
 * in flight (requested, not yet observed). The control loop reads it to decide what to ask for
 * next; in-flight requests count as pending so that parallel requests do not overfill a bin.
 */
export class Tally {
  readonly counts: number[][];
  readonly pending: number[][];
  kept = 0;
  private readonly cells: CellIndex;

  constructor(readonly target: Target) {
    this.counts = target.factors.map((f) => f.cells.map(() => 0));
    this.pending = target.factors.map((f) => f.cells.map(() => 0));
    this.cells = new CellIndex(target);
  }

  /** Index of the cell of factor `f` these labels fall in, or -1 if a label is unknown or missing. */
  cellOf(f: number, labels: Readonly<Record<string, string | null>>): number {
    return this.cells.cellOf(f, labels);
  }

  remaining(f: number, c: number): number {
    return this.target.factors[f]!.bins[c]! - this.counts[f]![c]!;
  }

  /**
   * Told of every image that came back with what was seen in it and what was asked for, kept or not (a
   * counting rule that learns from them overrides it; this one counts kept images only).
   */
  seen(_labels: Readonly<Record<string, string | null>>, _request: Request): void {}

  /** True when these labels are known for every factor and every one of their bins has room. `request`: what was asked for. */
  fits(labels: Readonly<Record<string, string | null>>, _request?: Request): boolean {
    return this.target.factors.every((_, f) => {
      const c = this.cellOf(f, labels);
      return c >= 0 && this.remaining(f, c) > 0;
    });
  }

  /** Counts a kept image; unknown cells are not counted (they show in the unknown rate). */
  add(labels: Readonly<Record<string, string | null>>, _request?: Request): void {
    this.kept += 1;
    this.target.factors.forEach((_, f) => {
      const c = this.cellOf(f, labels);
      if (c >= 0) this.counts[f]![c]! += 1;
    });
  }

  /** Marks a request as in flight (+1) or done (-1). Only the requested cells are counted. */
  changePending(cells: Assignment, delta: 1 | -1): void {
    this.target.factors.forEach((_, f) => {
      const c = this.cellOf(f, cells);
      if (c >= 0) this.pending[f]![c]! += delta;
    });
  }

  /** All bins of all factors met. */
  complete(): boolean {
    return this.target.factors.every((_, f) => this.counts[f]!.every((_, c) => this.remaining(f, c) <= 0));
  }

  /** Images still to keep for the set to be complete. */
  get left(): number {
    return Math.max(0, this.target.n - this.kept);
  }

  /** Counts per factor keyed by cell, for event lines and reports. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    this.target.factors.forEach((factor, f) => {
      const row: Record<string, number> = {};
      factor.cells.forEach((cell, c) => {
        if (this.counts[f]![c]! > 0) row[cellKey(cell)] = this.counts[f]![c]!;
      });
      out[factor.id] = row;
    });
    return out;
  }
}
