import type { AttemptEvent, PendingRecord, RunEvent } from "./events.js";

/** Where the engine puts what a run produces: a run folder, or memory (benchmarks, tests). */
export interface RunSink {
  /** Stores image bytes and returns their run-relative path. */
  writeImage(bytes: Uint8Array, mime: string): string;
  /** Reads back an image it stored (resume observes recovered attempts with their pixels); undefined when gone. */
  readImage(path: string): { bytes: Uint8Array; mime: string } | undefined;
  writePending(record: PendingRecord): void;
  clearPending(i: number): void;
  append(event: RunEvent): void;
}

/** Keeps everything in memory; images are counted, not kept. */
export class MemorySink implements RunSink {
  readonly events: RunEvent[] = [];
  images = 0;
  writeImage(): string {
    this.images += 1;
    return `images/mem-${this.images}.png`;
  }
  readImage(): undefined {
    return undefined;
  }
  writePending(): void {}
  clearPending(): void {}
  append(event: RunEvent): void {
    this.events.push(event);
  }
  attempts(): AttemptEvent[] {
    return this.events.filter((e): e is AttemptEvent => e.type === "attempt");
  }
}
