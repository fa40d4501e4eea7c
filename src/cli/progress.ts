import cliProgress from "cli-progress";
import type { LoopProgress } from "../engine/engine.js";
import type { CellReport } from "../experiments/runner.js";

/** Where progress goes: stderr by default; tests pass their own. */
export interface ProgressOutput {
  /** Writes one line (non-terminal output) or feeds the bar's stream. */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** A terminal gets a redrawn bar; anything else (pipes, CI logs) a line every few percent. */
  isTTY: boolean;
  /** Milliseconds, for elapsed time, rate and ETA. */
  now: () => number;
}

const defaultOutput = (): ProgressOutput => ({ stream: process.stderr, isTTY: Boolean(process.stderr.isTTY), now: () => Date.now() });

/** A non-terminal log gets a line each time progress crosses one of these steps (percent). */
export const LOG_STEP_PERCENT = 5;

/** Seconds as `m:ss`, or `h:mm:ss` from an hour on; "-" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * Elapsed time, rate and ETA of something that goes from `start` to `total`: the rate counts only what
 * this invocation did (a resumed run starts at the images it already had).
 */
export function pace(done: number, total: number, start: number, elapsedMs: number, unit: string): { elapsed: string; rate: string; left: string } {
  const seconds = elapsedMs / 1000;
  const made = done - start;
  const perSecond = seconds > 0 && made > 0 ? made / seconds : 0;
  const rate = perSecond === 0 ? `- ${unit}/s` : perSecond >= 1 ? `${perSecond.toFixed(1)} ${unit}/s` : `${(60 * perSecond).toFixed(1)} ${unit}/min`;
  const left = done >= total ? formatDuration(0) : perSecond > 0 ? formatDuration((total - done) / perSecond) : "-";
  return { elapsed: formatDuration(seconds), rate, left };
}

interface Reporter {
  show: (value: number, total: number, payload: Record<string, string>, line: () => string) => void;
  stop: () => void;
}

/**
 * A bar on a terminal (redrawn in place with `format`), or, elsewhere, one line per LOG_STEP_PERCENT
 * of progress (and the last), so CI logs show that a long run moves without filling up; nothing when
 * not enabled (--no-progress, --json).
 */
function reporter(enabled: boolean, format: string, out: ProgressOutput): Reporter {
  if (!enabled) return { show: () => {}, stop: () => {} };
  if (!out.isTTY) {
    let lastStep = -1;
    return {
      show: (value, total, _payload, line) => {
        const step = total > 0 ? Math.floor((100 * value) / total / LOG_STEP_PERCENT) : 0;
        if (step <= lastStep) return;
        lastStep = step;
        out.stream.write(`${line()}\n`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar({ stream: out.stream, format, barsize: 20, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    show: (value, total, payload) => {
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

const percent = (value: number, total: number): string => `${total > 0 ? Math.floor((100 * value) / total) : 0} %`;

/** The progress of a run: images kept of N, generations, TV to target, elapsed time, rate and ETA. */
export function progressReporter(enabled: boolean, out: ProgressOutput = defaultOutput()): { update: (p: LoopProgress) => void; stop: () => void } {
  const r = reporter(enabled, "{bar} {value}/{total} kept, {attempts} gen, TV {tv} | {elapsed}, {rate}, ETA {left}", out);
  const t0 = out.now();
  let start: number | undefined;
  return {
    update: (p) => {
      // What this invocation started from: 0 for a new run, the images a resumed run already had.
      start ??= p.kept - (p.last?.decision === "kept" ? 1 : 0);
      const speed = pace(p.kept, p.n, start, out.now() - t0, "kept");
      const payload = { attempts: String(p.attempts), inFlight: String(p.inFlight), tv: p.tv.toFixed(3), ...speed };
      r.show(p.kept, p.n, payload, () => `progress: ${p.kept}/${p.n} kept (${percent(p.kept, p.n)}), ${p.attempts} generations, TV ${payload.tv}, ${speed.elapsed} elapsed, ${speed.rate}, ETA ${speed.left}`);
    },
    stop: r.stop,
  };
}

/** The progress of an experiment: cells finished of all, elapsed time, rate and ETA, the last cell. */
export function cellProgress(enabled: boolean, out: ProgressOutput = defaultOutput()): { start: (total: number) => void; cell: (r: CellReport) => void; stop: () => void } {
  const r = reporter(enabled, "{bar} {value}/{total} cells | {elapsed}, {rate}, ETA {left} | {last}", out);
  const t0 = out.now();
  let skipped = 0;
  return {
    start: (total) => r.show(0, total, { last: "", ...pace(0, total, 0, 0, "cells") }, () => `progress: 0/${total} cells`),
    cell: (c) => {
      // Cells finished before this invocation (skipped) do not count towards the rate.
      if (c.action === "skipped") skipped += 1;
      const speed = pace(c.done, c.total, skipped, out.now() - t0, "cells");
      const last = `${c.cell.id}: ${c.summary.status}`;
      r.show(c.done, c.total, { last, ...speed }, () => `progress: ${c.done}/${c.total} cells (${percent(c.done, c.total)}), ${speed.elapsed} elapsed, ${speed.rate}, ETA ${speed.left}; last ${last}`);
    },
    stop: r.stop,
  };
}
