import cliProgress from "cli-progress";
import type { LoopProgress } from "../engine/engine.js";

/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes, CI, --json). */
export function progressReporter(enabled: boolean): { update: (p: LoopProgress) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {value}/{total} kept | {attempts} generations | {inFlight} in flight | TV to target {tv}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(p.n, p.kept, { attempts: p.attempts, inFlight: p.inFlight, tv: p.tv.toFixed(3) });
        started = true;
      } else bar.update(p.kept, { attempts: p.attempts, inFlight: p.inFlight, tv: p.tv.toFixed(3) });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
