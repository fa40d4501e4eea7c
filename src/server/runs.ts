import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { loadRun, resume, run } from "../api.js";
import type { RunConfigInput } from "../config/schema.js";
import { InputError } from "../core/errors.js";
import type { RunRecord, RunSummary } from "../report/summary.js";
import type { RunEvent } from "../store/events.js";
import { isFinished, loadReportInput } from "../experiments/load.js";
import { isExperimentFolder, RUNS_DIR } from "../experiments/folder.js";
import { lockHolder } from "../store/files.js";
import type { PlannedExperiment } from "../experiments/config.js";
import { resumeExperiment, runExperiment } from "../experiments/runner.js";
import type { ApiExperimentDetail, ApiExperimentListItem, ApiLiveState, ApiRunDetail, ApiRunListItem } from "./api-types.js";
import { confinedPath, isSafeId } from "./confine.js";
import { EventFeed } from "./feed.js";
import { HttpError } from "./http-util.js";

interface LiveRun {
  controller: AbortController;
  state: "running" | "stopping";
  done: Promise<void>;
}

interface Loaded {
  record: RunRecord;
  events: RunEvent[];
  summary: RunSummary;
  stamp: string;
}

/** Joins an experiment id and a cell id into a run id. */
export const EXPERIMENT_SEP = "~";

const mean = (xs: number[]): number | null => (xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/**
 * The runs of one runs folder: lists and measures them, starts, stops and resumes them in this
 * process (a run goes on when every browser is closed; stop aborts it, leaving the folder resumable)
 * and keeps one EventFeed per watched run.
 */
export class RunManager {
  private live = new Map<string, LiveRun>();
  private liveExperiments = new Map<string, LiveRun & { done_: number; total: number }>();
  private experimentErrors = new Map<string, string>();
  private errors = new Map<string, string>();
  private feeds = new Map<string, EventFeed>();
  private cache = new Map<string, Loaded>();

  constructor(
    readonly runsDir: string,
    readonly experimentsDir: string,
  ) {}

  /**
   * The run folder of `id`, confined to its folder; 404 when there is none. A run's id is its folder
   * name in the runs folder, or `EXPERIMENT~CELL` for a cell of an experiment in the experiments folder.
   */
  dirOf(id: string): string {
    const parts = id.split(EXPERIMENT_SEP);
    let dir: string | undefined;
    if (parts.length === 1 && isSafeId(id)) dir = confinedPath(this.runsDir, id);
    else if (parts.length === 2 && parts.every(isSafeId)) {
      const exp = confinedPath(this.experimentsDir, parts[0]!);
      dir = exp && isExperimentFolder(exp) ? confinedPath(exp, RUNS_DIR, parts[1]!) : undefined;
      // confinedPath checks each part; the cell must also stay inside the experiment's own folder.
      if (dir && exp && !dir.startsWith(exp + sep)) dir = undefined;
    }
    if (!dir || !existsSync(join(dir, "run.json"))) throw new HttpError(404, `no run "${id}"`);
    return dir;
  }

  /** The id of a run folder (inverse of dirOf), for URLs in reports. */
  idOf(runDir: string): string {
    const abs = resolve(runDir);
    if (dirname(abs) === resolve(this.runsDir)) return basename(abs);
    const rel = relative(resolve(this.experimentsDir), abs).split(sep);
    if (rel.length === 3 && rel[1] === RUNS_DIR) return `${rel[0]}${EXPERIMENT_SEP}${rel[2]}`;
    return basename(abs);
  }

  /** An experiment folder in the experiments folder; 404 when there is none. */
  experimentDir(id: string): string {
    const dir = isSafeId(id) ? confinedPath(this.experimentsDir, id) : undefined;
    if (!dir || !isExperimentFolder(dir)) throw new HttpError(404, `no experiment "${id}" in ${this.experimentsDir}`);
    return dir;
  }

  /** The experiments in the experiments folder, newest first, with their headline numbers. */
  listExperiments(): ApiExperimentListItem[] {
    if (!existsSync(this.experimentsDir)) return [];
    const out: ApiExperimentListItem[] = [];
    for (const name of readdirSync(this.experimentsDir)) {
      if (name.startsWith(".") || !isSafeId(name)) continue;
      const dir = confinedPath(this.experimentsDir, name);
      if (!dir || !isExperimentFolder(dir)) continue;
      try {
        const input = loadReportInput(dir);
        const finished = input.runs.filter(isFinished);
        out.push({
          id: name,
          title: input.title,
          createdAt: input.createdAt,
          runs: input.runs.length + (input.incomplete ?? []).filter((c) => !input.runs.some((r) => r.id === c)).length,
          incomplete: (input.incomplete ?? []).length,
          meanTv: mean(finished.flatMap((r) => r.summary.factors.map((f) => f.tv))),
          exactShare: finished.length > 0 ? finished.filter((r) => r.summary.exact).length / finished.length : null,
          live: this.experimentLiveState(name).state,
        });
      } catch {
        // a damaged experiment folder is left out of the list
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  experimentDetail(id: string): ApiExperimentDetail {
    const input = loadReportInput(this.experimentDir(id));
    return {
      id,
      live: this.experimentLiveState(id),
      title: input.title,
      createdAt: input.createdAt,
      runs: input.runs.map((r) => {
        const key = `${id}${EXPERIMENT_SEP}${r.id}`;
        return { ...this.listItem(key, this.load(key)), labels: { ...r.labels } as Record<string, string> };
      }),
      incomplete: input.incomplete ?? [],
      findings: (input.findings ?? []).map((f) => ({ id: f.id, claim: f.claim, reproduced: f.reproduced, evidence: f.evidence })),
    };
  }

  liveState(id: string): ApiLiveState {
    const l = this.live.get(id);
    const error = this.errors.get(id);
    if (!l && this.lockedElsewhere(id)) return { state: "running", external: true };
    return { state: l ? l.state : "idle", ...(error ? { error } : {}) };
  }

  /** A run that a live process works on without this dashboard having started it (the CLI, or an experiment's cell). */
  private lockedElsewhere(id: string): boolean {
    let dir: string;
    try {
      dir = this.dirOf(id);
    } catch {
      return false;
    }
    return lockHolder(join(dir, "run.lock"), { includeSelf: true }) !== undefined;
  }

  experimentLiveState(id: string): ApiLiveState & { done?: number; total?: number } {
    const l = this.liveExperiments.get(id);
    const error = this.experimentErrors.get(id);
    if (l) return { state: l.state, done: l.done_, total: l.total };
    if (lockHolder(join(this.experimentsDir, id, "experiment.lock"), { includeSelf: true }) !== undefined) return { state: "running", external: true };
    return { state: "idle", ...(error ? { error } : {}) };
  }

  private trackExperiment(controller: AbortController, start: (onStart: (dir: string, total: number) => void, onCell: (done: number) => void) => Promise<unknown>): Promise<string> {
    return new Promise<string>((resolveId, reject) => {
      let id: string | undefined;
      let settle!: () => void;
      const done = new Promise<void>((r) => (settle = r));
      start(
        (dir, total) => {
          id = basename(dir);
          this.experimentErrors.delete(id);
          this.liveExperiments.set(id, { controller, state: "running", done, done_: 0, total });
          resolveId(id);
        },
        (n) => {
          const l = id ? this.liveExperiments.get(id) : undefined;
          if (l) l.done_ = n;
        },
      )
        .catch((e: unknown) => {
          if (!id) return reject(e);
          this.experimentErrors.set(id, e instanceof Error ? e.message : String(e));
        })
        .finally(() => {
          if (id) this.liveExperiments.delete(id);
          else reject(new Error("the experiment ended before its folder was ready"));
          settle();
        });
    });
  }

  /** Runs a planned experiment in this process; resolves with its id once its folder exists. */
  startExperiment(plan: PlannedExperiment): Promise<string> {
    const controller = new AbortController();
    return this.trackExperiment(controller, (onStart, onCell) => runExperiment(plan, { signal: controller.signal, onStart, onCell: (r) => onCell(r.done) }));
  }

  stopExperiment(id: string): ApiLiveState {
    this.experimentDir(id);
    const l = this.liveExperiments.get(id);
    if (!l) throw new HttpError(409, `experiment "${id}" is not running in this dashboard`);
    if (l.state === "running") {
      l.state = "stopping";
      l.controller.abort(new Error("stopped from the dashboard"));
    }
    return this.experimentLiveState(id);
  }

  async resumeExperiment(id: string): Promise<ApiLiveState> {
    const dir = this.experimentDir(id);
    if (this.liveExperiments.has(id)) throw new HttpError(409, `experiment "${id}" is already running`);
    const controller = new AbortController();
    try {
      await this.trackExperiment(controller, (onStart, onCell) => resumeExperiment(dir, { signal: controller.signal, onStart, onCell: (r) => onCell(r.done) }));
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(409, e.message);
      throw e;
    }
    return this.experimentLiveState(id);
  }

  async experimentSettled(id: string): Promise<void> {
    await this.liveExperiments.get(id)?.done;
  }

  /** Reads a run (cached until its events.jsonl changes). */
  load(id: string): Loaded {
    const dir = this.dirOf(id);
    const st = statSync(join(dir, "events.jsonl"), { throwIfNoEntry: false });
    const stamp = `${st?.size ?? 0}:${st?.mtimeMs ?? 0}`;
    const hit = this.cache.get(id);
    if (hit && hit.stamp === stamp) return hit;
    const { record, events, summary } = loadRun(dir);
    const loaded = { record, events, summary, stamp };
    this.cache.set(id, loaded);
    return loaded;
  }

  /** Every run in the runs folder, newest first; folders that are not runs (or are damaged) are left out. */
  list(): ApiRunListItem[] {
    if (!existsSync(this.runsDir)) return [];
    const items: ApiRunListItem[] = [];
    for (const name of readdirSync(this.runsDir)) {
      if (name.startsWith(".") || !isSafeId(name)) continue;
      const dir = confinedPath(this.runsDir, name);
      if (!dir || !existsSync(join(dir, "run.json"))) continue;
      let loaded: Loaded;
      try {
        loaded = this.load(name);
      } catch {
        continue;
      }
      items.push(this.listItem(name, loaded));
    }
    return items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  }

  private listItem(id: string, { record, summary: s }: Loaded): ApiRunListItem {
    return {
      id,
      createdAt: record.createdAt,
      prompt: s.prompt,
      policy: s.policy,
      provider: s.provider,
      observer: s.observer,
      n: s.n,
      kept: s.kept,
      status: s.status,
      exact: s.exact,
      tv: mean(s.factors.map((f) => f.tv)),
      maxAbsDiff: s.factors.length > 0 ? Math.max(...s.factors.map((f) => f.maxAbsDiff)) : null,
      generationsPerKept: s.generationsPerKept,
      refusals: s.refusals,
      errors: s.errors,
      costUsd: s.costUsd,
      factors: s.factors.map((f) => f.id),
      live: this.liveState(id).state,
    };
  }

  detail(id: string): ApiRunDetail {
    const { record, summary } = this.load(id);
    const labels: ApiRunDetail["labels"] = {};
    for (const a of record.taxonomy.attributes) labels[a.id] = Object.fromEntries(a.categories.map((c) => [c.id, c.label]));
    return { id, createdAt: record.createdAt, config: { ...record.config }, labels, summary, live: this.liveState(id) };
  }

  /** The feed of a run, created on first use. */
  feed(id: string): EventFeed {
    let f = this.feeds.get(id);
    if (!f) {
      const dir = this.dirOf(id);
      f = new EventFeed(id, dir, loadRun(dir).record, () => this.liveState(id));
      this.feeds.set(id, f);
    }
    return f;
  }

  /** Forgets a feed nobody watches and whose run is not running here. */
  releaseFeed(id: string): void {
    const f = this.feeds.get(id);
    if (f && f.size === 0 && !this.live.has(id)) {
      f.stop();
      this.feeds.delete(id);
    }
  }

  private changed(id: string): void {
    this.feeds.get(id)?.sendState();
  }

  private track(controller: AbortController, started: (onStart: (dir: string) => void, onProgress: () => void) => Promise<unknown>): Promise<string> {
    return new Promise<string>((resolveId, reject) => {
      let id: string | undefined;
      let settle!: () => void;
      const done = new Promise<void>((r) => (settle = r));
      const work = started(
        (dir) => {
          id = basename(dir);
          this.errors.delete(id);
          this.live.set(id, { controller, state: "running", done });
          this.changed(id);
          resolveId(id);
        },
        () => {
          if (id) this.feeds.get(id)?.poll();
        },
      );
      work.then(
        () => undefined,
        (e: unknown) => {
          if (!id) return reject(e);
          this.errors.set(id, e instanceof Error ? e.message : String(e));
        },
      ).finally(() => {
        if (id) {
          this.live.delete(id);
          this.cache.delete(id);
          this.changed(id);
        } else reject(new Error("the run ended before its folder was ready"));
        settle();
      });
    });
  }

  /** Starts a run with validated settings; resolves with its id once its folder exists. */
  start(config: RunConfigInput): Promise<string> {
    const controller = new AbortController();
    return this.track(controller, (onStart, onProgress) => run(config, { signal: controller.signal, onStart, onProgress }));
  }

  /** Asks a running run to stop: requests in flight are cancelled, the folder stays resumable. */
  stop(id: string): ApiLiveState {
    this.dirOf(id);
    const l = this.live.get(id);
    if (!l) throw new HttpError(409, `run "${id}" is not running in this dashboard`);
    if (l.state === "running") {
      l.state = "stopping";
      l.controller.abort(new Error("stopped from the dashboard"));
      this.changed(id);
    }
    return this.liveState(id);
  }

  /** Continues a stopped or killed run (or one that spent its budget, with a larger maxAttempts). */
  async resume(id: string, maxAttempts?: number): Promise<ApiLiveState> {
    const dir = this.dirOf(id);
    if (this.live.has(id)) throw new HttpError(409, `run "${id}" is already running`);
    const { summary } = this.load(id);
    if (summary.status === "complete") throw new HttpError(409, `run "${id}" is complete; there is nothing to resume`);
    const controller = new AbortController();
    try {
      await this.track(controller, (onStart, onProgress) =>
        resume(dir, { signal: controller.signal, onStart, onProgress, ...(maxAttempts !== undefined ? { maxAttempts } : {}) }),
      );
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(409, e.message);
      throw e;
    }
    return this.liveState(id);
  }

  /** Waits until a run is no longer running here (tests, shutdown). */
  async settled(id: string): Promise<void> {
    await this.live.get(id)?.done;
  }

  /** Stops every run (they stay resumable) and waits for them. */
  async close(): Promise<void> {
    const all = [...this.live.values(), ...this.liveExperiments.values()];
    for (const l of all) l.controller.abort(new Error("the dashboard is shutting down"));
    await Promise.all(all.map((l) => l.done));
    for (const f of this.feeds.values()) f.stop();
    this.feeds.clear();
  }
}
