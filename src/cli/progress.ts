import cliProgress from "cli-progress";
import type { LoopProgress } from "../engine/engine.js";
import type { CellReport } from "../experiments/runner.js";

/** A bar on stderr in `format`, started by its first `show`, when stderr is a terminal; nothing otherwise (pipes, CI, --json). */
function stderrBar(enabled: boolean, format: string): { show: (value: number, total: number, payload: object) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { show: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
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

/** The bar of a run: images kept of N. */
export function progressReporter(enabled: boolean): { update: (p: LoopProgress) => void; stop: () => void } {
  const bar = stderrBar(enabled, "{bar} {value}/{total} kept | {attempts} generations | {inFlight} in flight | TV to target {tv}");
  return {
    update: (p) => bar.show(p.kept, p.n, { attempts: p.attempts, inFlight: p.inFlight, tv: p.tv.toFixed(3) }),
    stop: bar.stop,
  };
}

/** The bar of an experiment: cells finished of all. */
export function cellProgress(enabled: boolean): { start: (total: number) => void; cell: (r: CellReport) => void; stop: () => void } {
  const bar = stderrBar(enabled, "{bar} {value}/{total} cells | {eta_formatted} left | {last}");
  return {
    start: (total) => bar.show(0, total, { last: "" }),
    cell: (r) => bar.show(r.done, r.total, { last: `${r.cell.id}: ${r.summary.status}` }),
    stop: bar.stop,
  };
}
