/**
 * A spending cap shared by the calls of one run, or of every run of an experiment: each call reserves its expected
 * cost before it starts and settles with what it really cost, so concurrent calls cannot together overshoot.
 */
export class CostBudget {
  private reserved = 0;

  constructor(
    readonly limitUsd: number,
    private spentUsd = 0,
  ) {}

  get spent(): number {
    return this.spentUsd;
  }

  /** Reserves one call's expected cost; false when it would take spending past the limit. */
  reserve(usd: number): boolean {
    if (this.spentUsd + this.reserved + usd > this.limitUsd + 1e-9) return false;
    this.reserved += usd;
    return true;
  }

  /** Releases a reservation and books what the call really cost. */
  settle(reservedUsd: number, actualUsd: number): void {
    this.reserved = Math.max(0, this.reserved - reservedUsd);
    this.spentUsd += actualUsd;
  }
}

/** "$1.23" */
export const usd = (x: number): string => `$${Math.abs(x * 100 - Math.round(x * 100)) < 1e-6 ? x.toFixed(2) : x.toFixed(4).replace(/0+$/, "")}`;
