import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { resume, runPlan, type RunOptions } from "../api.js";
import type { RunPlan } from "../app/plan-run.js";
import { loadRun, runInProgress } from "../analysis/load.js";
import { runError, type RunRecord, type RunSummary } from "../analysis/summary.js";
import type { RunEvent } from "../store/events.js";
import { loadReportInput } from "../experiments/load.js";
import { isExperimentFolder, readManifest, RUNS_DIR } from "../experiments/folder.js";
import { lockHolder } from "../store/files.js";
import type { PlannedExperiment } from "../experiments/config.js";
import { resumeExperiment, runExperiment, type ExperimentRunOptions } from "../experiments/runner.js";
import type { ApiExperimentDetail, ApiExperimentListItem, ApiLiveState, ApiRunDetail, ApiRunListItem } from "./api-types.js";
import { confinedPath, isSafeId } from "./confine.js";
import { EventFeed } from "./feed.js";
import { HttpError } from "./http-util.js";
import type { KeyScope } from "../http/keys.js";
import { LiveSet, type Progress, type Tracking } from "./live.js";

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
  private feeds = new Map<string, EventFeed>();
  private cache = new Map<string, Loaded>();
  /** A run's files and state change as it starts, stops and ends: read it again and tell its watchers. */
  private runs = new LiveSet("run", (id) => {
    this.cache.delete(id);
    this.feeds.get(id)?.sendState();
  });
  private experiments = new LiveSet("experiment");

  constructor(
    readonly runsDir: string,
    readonly experimentsDir: string,
    /** Where runs started or resumed here may send keys from the server's environment (`env`: only to the environment's or the default base URL). */
    readonly keyScope: KeyScope = "env",
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
      try {
        out.push(this.experimentItem(name, this.experimentDir(name)));
      } catch {
        // not an experiment, or a damaged one: left out of the list
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  /** An experiment's row from its manifest and its cells' cached runs (the numbers of its report, without effects and findings). */
  private experimentItem(id: string, dir: string): ApiExperimentListItem {
    const manifest = readManifest(dir);
    const finished: RunSummary[] = [];
    let incomplete = 0;
    for (const cell of manifest.cells) {
      if (!existsSync(join(dir, RUNS_DIR, cell.id, "run.json"))) {
        incomplete += 1;
        continue;
      }
      const key = `${id}${EXPERIMENT_SEP}${cell.id}`;
      const cellDir = this.dirOf(key);
      const { summary } = this.load(key, cellDir);
      // finished as isFinished tells: it wrote its end line and no process works on it
      if (summary.status !== "incomplete" && !runInProgress(cellDir)) finished.push(summary);
      else incomplete += 1;
    }
    return {
      id,
      title: manifest.title,
      createdAt: manifest.createdAt,
      runs: manifest.cells.length,
      incomplete,
      meanTv: mean(finished.filter((s) => s.kept > 0).flatMap((s) => s.factors.map((f) => f.tv))),
      exactShare: finished.length > 0 ? finished.filter((s) => s.exact).length / finished.length : null,
      live: this.experimentLiveState(id).state,
    };
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
        return { ...this.listItem(key, r, this.dirOf(key)), labels: { ...r.labels } as Record<string, string> };
      }),
      incomplete: input.incomplete ?? [],
      findings: (input.findings ?? []).map((f) => ({ id: f.id, claim: f.claim, reproduced: f.reproduced, evidence: f.evidence })),
    };
  }

  /** The state of run `id`; `dir`, its folder, when already known. */
  liveState(id: string, dir?: string): ApiLiveState {
    return this.runs.state(id, () => this.lockedElsewhere(id, dir));
  }

  /** A run that a live process works on without this dashboard having started it (the CLI, or an experiment's cell). */
  private lockedElsewhere(id: string, dir?: string): boolean {
    if (dir === undefined) {
      try {
        dir = this.dirOf(id);
      } catch {
        return false;
      }
    }
    return lockHolder(join(dir, "run.lock"), { includeSelf: true }) !== undefined;
  }

  experimentLiveState(id: string): ApiLiveState & Partial<Progress> {
    return this.experiments.state(id, () => lockHolder(join(this.experimentsDir, id, "experiment.lock"), { includeSelf: true }) !== undefined);
  }

  /** What an experiment is run with to be tracked: its signal, its start and its cells done. */
  private experimentOptions(t: Tracking): ExperimentRunOptions {
    const progress: Progress = { done: 0, total: 0 };
    return {
      signal: t.signal,
      keyScope: this.keyScope,
      onStart: (dir, total) => {
        progress.total = total;
        t.started(dir, progress);
      },
      onCell: (r) => {
        progress.done = r.done;
      },
    };
  }

  /** Runs a planned experiment in this process; resolves with its id once its folder exists. */
  startExperiment(plan: PlannedExperiment): Promise<string> {
    return this.experiments.track((t) => runExperiment(plan, this.experimentOptions(t)));
  }

  stopExperiment(id: string): ApiLiveState {
    this.experimentDir(id);
    this.experiments.stop(id);
    return this.experimentLiveState(id);
  }

  async resumeExperiment(id: string): Promise<ApiLiveState> {
    const dir = this.experimentDir(id);
    this.experiments.checkIdle(id);
    await this.experiments.resume((t) => resumeExperiment(dir, this.experimentOptions(t)));
    return this.experimentLiveState(id);
  }

  async experimentSettled(id: string): Promise<void> {
    await this.experiments.settled(id);
  }

  /** Reads a run (cached until its events.jsonl changes); `dir`, its folder, when already known. */
  load(id: string, dir = this.dirOf(id)): Loaded {
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
      // dirOf would take such a name for an experiment's cell
      if (name.includes(EXPERIMENT_SEP)) continue;
      let dir: string;
      let loaded: Loaded;
      try {
        dir = this.dirOf(name);
        loaded = this.load(name, dir);
      } catch {
        continue;
      }
      items.push(this.listItem(name, loaded, dir));
    }
    return items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  }

  private listItem(id: string, { record, summary: s }: Pick<Loaded, "record" | "summary">, dir: string): ApiRunListItem {
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
      // Nothing kept: no distance to speak of (the distance of an empty set would read 0.500).
      tv: s.kept > 0 ? runError(s).tv : null,
      maxAbsDiff: runError(s).maxAbsDiff,
      generationsPerKept: s.generationsPerKept,
      refusals: s.refusals,
      errors: s.errors,
      costUsd: s.costUsd,
      factors: s.factors.map((f) => f.id),
      live: this.liveState(id, dir).state,
    };
  }

  detail(id: string): ApiRunDetail {
    const dir = this.dirOf(id);
    const { record, summary } = this.load(id, dir);
    const labels: ApiRunDetail["labels"] = {};
    for (const a of record.taxonomy.attributes) labels[a.id] = Object.fromEntries(a.categories.map((c) => [c.id, c.label]));
    return { id, createdAt: record.createdAt, config: { ...record.config }, labels, summary, live: this.liveState(id, dir) };
  }

  /** The feed of a run, created on first use. */
  feed(id: string): EventFeed {
    let f = this.feeds.get(id);
    if (!f) {
      const dir = this.dirOf(id);
      f = new EventFeed(id, dir, this.load(id, dir).record, () => this.liveState(id, dir));
      this.feeds.set(id, f);
    }
    return f;
  }

  /** Forgets a feed nobody watches and whose run is not running here. */
  releaseFeed(id: string): void {
    const f = this.feeds.get(id);
    if (f && f.size === 0 && !this.runs.has(id)) {
      f.stop();
      this.feeds.delete(id);
    }
  }

  /** What a run is run with to be tracked: its signal, its start and its progress, read into its feed. */
  private runOptions(t: Tracking): RunOptions {
    return {
      signal: t.signal,
      keyScope: this.keyScope,
      onStart: (dir) => t.started(dir),
      onProgress: () => {
        if (t.id) this.feeds.get(t.id)?.poll();
      },
    };
  }

  /** Starts a run planned by validateRunRequest (checked once); resolves with its id once its folder exists. */
  start(plan: RunPlan): Promise<string> {
    return this.runs.track((t) => runPlan(plan, this.runOptions(t)));
  }

  /** Asks a running run to stop: requests in flight are cancelled, the folder stays resumable. */
  stop(id: string): ApiLiveState {
    const dir = this.dirOf(id);
    this.runs.stop(id);
    return this.liveState(id, dir);
  }

  /** Continues a stopped or killed run (or one that spent its budget, with a larger maxAttempts). */
  async resume(id: string, maxAttempts?: number): Promise<ApiLiveState> {
    const dir = this.dirOf(id);
    this.runs.checkIdle(id);
    if (this.load(id, dir).summary.status === "complete") throw new HttpError(409, `run "${id}" is complete; there is nothing to resume`);
    await this.runs.resume((t) => resume(dir, { ...this.runOptions(t), refuseComplete: true, ...(maxAttempts !== undefined ? { maxAttempts } : {}) }));
    return this.liveState(id, dir);
  }

  /** Waits until a run is no longer running here (tests, shutdown). */
  async settled(id: string): Promise<void> {
    await this.runs.settled(id);
  }

  /** Stops every run and experiment (they stay resumable) and waits for them. */
  async close(): Promise<void> {
    await Promise.all([this.runs.close(), this.experiments.close()]);
    for (const f of this.feeds.values()) f.stop();
    this.feeds.clear();
  }
}
