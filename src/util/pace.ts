import { sleep } from "./sleep.js";

/**
 * Evenly spaced starts: at most `perSecond` a second, each 1000 / perSecond ms after the one before. The one rule
 * behind `--rate`, used by the provider wrapper of a local run and by the queue's coordinator, which paces the
 * attempts it hands to the workers.
 */

/** The clock a pacer reads and waits on (tests pass a simulated one). */
export interface PaceClock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. One run-wide signal is shared by every wait, so `sleep` removes its listener once the wait is over. */
export const systemClock: PaceClock = { now: () => Date.now(), sleep };

export class Pacer {
  private next = 0;

  constructor(
    readonly perSecond: number,
    private readonly clock: PaceClock = systemClock,
  ) {}

  /** Takes the next free start slot and waits for it; rejects with the signal's reason when it aborts first. */
  async wait(signal?: AbortSignal): Promise<void> {
    const gap = 1000 / this.perSecond;
    const t = this.clock.now();
    const slot = Math.max(t, this.next);
    this.next = slot + gap;
    if (slot > t) await this.clock.sleep(slot - t, signal);
  }
}
