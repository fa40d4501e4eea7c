import { basename } from "node:path";
import { InputError } from "../core/errors.js";
import type { ApiLiveState } from "./api-types.js";
import { HttpError } from "./http-util.js";

/** Cells of an experiment finished so far, and in all. */
export interface Progress {
  done: number;
  total: number;
}

interface Live {
  controller: AbortController;
  state: "running" | "stopping";
  done: Promise<void>;
  progress?: Progress;
}

/** What tracked work is given: the signal that stops it, and `started` to call once its folder exists. */
export interface Tracking {
  signal: AbortSignal;
  started(dir: string, progress?: Progress): void;
  /** The work's id (its folder's name), once it started. */
  id?: string;
}

/**
 * The work of one kind (runs, or experiments) going on in this process, by id, and the error of the
 * last that failed. `onChange` hears when one starts, is asked to stop and ends.
 */
export class LiveSet {
  private live = new Map<string, Live>();
  private errors = new Map<string, string>();

  constructor(
    private readonly noun: "run" | "experiment",
    private readonly onChange: (id: string) => void = () => undefined,
  ) {}

  has(id: string): boolean {
    return this.live.has(id);
  }

  /** The state of `id`; `elsewhere` tells whether another process works on it. */
  state(id: string, elsewhere: () => boolean): ApiLiveState & Partial<Progress> {
    const l = this.live.get(id);
    if (l) return { state: l.state, ...(l.progress ? { done: l.progress.done, total: l.progress.total } : {}) };
    if (elsewhere()) return { state: "running", external: true };
    const error = this.errors.get(id);
    return { state: "idle", ...(error ? { error } : {}) };
  }

  /** Starts `work`; resolves with its id once its folder exists, rejects when it fails or ends before. */
  track(work: (t: Tracking) => Promise<unknown>): Promise<string> {
    return new Promise<string>((resolveId, reject) => {
      const controller = new AbortController();
      let settle!: () => void;
      const done = new Promise<void>((r) => (settle = r));
      const t: Tracking = {
        signal: controller.signal,
        started: (dir, progress) => {
          const id = (t.id = basename(dir));
          this.errors.delete(id);
          this.live.set(id, { controller, state: "running", done, ...(progress ? { progress } : {}) });
          this.onChange(id);
          resolveId(id);
        },
      };
      work(t)
        .catch((e: unknown) => {
          if (!t.id) return reject(e);
          this.errors.set(t.id, e instanceof Error ? e.message : String(e));
        })
        .finally(() => {
          if (t.id) {
            this.live.delete(t.id);
            this.onChange(t.id);
          } else reject(new Error(`the ${this.noun} ended before its folder was ready`));
          settle();
        });
    });
  }

  /** 409 when work on `id` goes on here already. */
  checkIdle(id: string): void {
    if (this.live.has(id)) throw new HttpError(409, `${this.noun} "${id}" is already running`);
  }

  /** Tracks work that continues a folder; its refusal (another process works on it, nothing left to do) is a 409. */
  async resume(work: (t: Tracking) => Promise<unknown>): Promise<void> {
    try {
      await this.track(work);
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(409, e.message);
      throw e;
    }
  }

  /** Asks the work on `id` to stop (requests in flight are cancelled, the folder stays resumable); 409 when none goes on here. */
  stop(id: string): void {
    const l = this.live.get(id);
    if (!l) throw new HttpError(409, `${this.noun} "${id}" is not running in this dashboard`);
    if (l.state === "running") {
      l.state = "stopping";
      l.controller.abort(new Error("stopped from the dashboard"));
      this.onChange(id);
    }
  }

  /** Waits until the work on `id` ends. */
  async settled(id: string): Promise<void> {
    await this.live.get(id)?.done;
  }

  /** Stops all the work (it stays resumable) and waits for it. */
  async close(): Promise<void> {
    const all = [...this.live.values()];
    for (const l of all) l.controller.abort(new Error("the dashboard is shutting down"));
    await Promise.all(all.map((l) => l.done));
  }
}
