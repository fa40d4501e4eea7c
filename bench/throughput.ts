import { run } from "../src/api.js";
import { fmt, mdTable, pct, progress } from "./util.js";

export const THROUGHPUT_PROMPT = "Startup founder rings the opening bell at the stock exchange";
export const THROUGHPUT_LATENCY_MS = 1000;

/** Concurrency and N: N = 10 x C so that an ideal run takes about 10 s at 1 s per generation. */
export const THROUGHPUT_LEVELS: readonly { concurrency: number; n: number }[] = [
  { concurrency: 1, n: 10 },
  { concurrency: 4, n: 40 },
  { concurrency: 16, n: 160 },
];

/** Runs per level (different seeds). */
export const THROUGHPUT_REPS = 2;

export interface ThroughputRun {
  concurrency: number;
  n: number;
  seed: number;
  seconds: number;
  kept: number;
  generations: number;
  attempts: number;
  imagesPerSecond: number;
  genPerKept: number | null;
  exact: boolean;
  status: string;
}

export async function throughputBench(): Promise<ThroughputRun[]> {
  const out: ThroughputRun[] = [];
  for (const { concurrency, n } of THROUGHPUT_LEVELS) {
    for (let r = 0; r < THROUGHPUT_REPS; r++) {
      const seed = 700_000 + 100 * concurrency + r;
      const t0 = performance.now();
      const { summary, result } = await run(
        {
          prompt: THROUGHPUT_PROMPT,
          n,
          joint: [["gender", "race"]],
          policy: "debiaspi",
          mode: "direct",
          overflow: "discard",
          seed,
          concurrency,
          sim: { latencyMs: THROUGHPUT_LATENCY_MS, render: false },
        },
        { inMemory: true },
      );
      const seconds = (performance.now() - t0) / 1000;
      const row: ThroughputRun = {
        concurrency,
        n,
        seed,
        seconds,
        kept: summary.kept,
        generations: summary.generations,
        attempts: result.attempts,
        imagesPerSecond: summary.kept / seconds,
        genPerKept: summary.generationsPerKept,
        exact: summary.exact,
        status: result.status,
      };
      out.push(row);
      progress(
        `throughput: C=${concurrency} N=${n} seed ${seed}: ${seconds.toFixed(1)} s, ${row.imagesPerSecond.toFixed(2)} images/s, exact ${row.exact}`,
      );
    }
  }
  return out;
}

/**
 * The fewest rounds of provider latency a run's recorded generations need: C at a time, each taking the
 * whole latency. No end game can finish sooner; a run that took one round more idled slots at its end.
 */
export const minRounds = (r: Pick<ThroughputRun, "generations" | "concurrency">): number => Math.ceil(r.generations / r.concurrency);

/** Wall time against the round bound: 1 when the run took exactly its fewest rounds. */
export const roundEfficiency = (r: ThroughputRun): number => (minRounds(r) * THROUGHPUT_LATENCY_MS) / 1000 / r.seconds;

export function throughputTable(rows: readonly ThroughputRun[]): string {
  return mdTable(
    ["concurrency", "N", "seed", "wall s", "kept images/s", "ideal images/s", "% of ideal", "generations", "gen/kept", "fewest rounds", "% of round bound", "exact"],
    rows.map((r) => [
      String(r.concurrency),
      String(r.n),
      String(r.seed),
      fmt(r.seconds, 2),
      fmt(r.imagesPerSecond, 2),
      fmt(r.concurrency / (THROUGHPUT_LATENCY_MS / 1000), 0),
      pct(r.imagesPerSecond / (r.concurrency / (THROUGHPUT_LATENCY_MS / 1000))),
      String(r.generations),
      fmt(r.genPerKept ?? Number.NaN, 2),
      String(minRounds(r)),
      pct(roundEfficiency(r)),
      r.exact ? "yes" : "no",
    ]),
  );
}

/** Per level: mean % of concurrency/latency and mean % of the round bound, and whether each run took its fewest rounds. */
export function throughputRoundsLine(rows: readonly ThroughputRun[]): string {
  const levels = THROUGHPUT_LEVELS.map((l) => {
    const rs = rows.filter((r) => r.concurrency === l.concurrency);
    const ideal = rs.reduce((a, r) => a + r.imagesPerSecond / (r.concurrency / (THROUGHPUT_LATENCY_MS / 1000)), 0) / rs.length;
    const bound = rs.reduce((a, r) => a + roundEfficiency(r), 0) / rs.length;
    // Whole rounds taken: a run of k rounds takes k x latency plus overhead below one latency.
    const extra = rs.map((r) => Math.floor(r.seconds / (THROUGHPUT_LATENCY_MS / 1000)) - minRounds(r));
    return `C=${l.concurrency}: ${pct(ideal)} of concurrency/latency, ${pct(bound)} of the round bound (${extra.every((x) => x <= 0) ? "every run took its fewest rounds" : `rounds beyond the fewest: ${extra.join(", ")}`})`;
  });
  return `Against the round bound (*fewest rounds*: generations / concurrency, rounded up; *% of round bound*: fewest rounds x latency / wall s): ${levels.join("; ")}.`;
}
