/**
 * The benchmark: policy quality on the simulated model, engine overhead, throughput under latency.
 *
 *   npm run bench                 prints the Markdown tables to stdout (progress on stderr)
 *   npm run bench -- --write      also writes them into BENCHMARKS.md
 *
 * Options (for development): --only policy,overhead,throughput,faces,faces-fairface,sse,queue,scaling,render,calibration   --prompts K (first K prompts only).
 * --write is refused with either, so BENCHMARKS.md always holds a full run.
 */
import { writeFileSync } from "node:fs";
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/util/paths.js";
import { ENDGAME_GRACE_MS } from "../src/engine/engine.js";
import { OVERHEAD_N, OVERHEAD_RUNS, OVERHEAD_RUNS_PNG, overheadBench, overheadTable, type OverheadResult } from "./overhead.js";
import {
  exactOverviewTable,
  findCell,
  goalChecks,
  monkCostTable,
  overviewTable,
  POLICIES,
  POLICY_CONCURRENCY,
  policyBench,
  SIZES,
  TARGETS,
  targetTable,
  type PolicyResults,
} from "./policy.js";
import { benchPrompts, type BenchPrompt } from "./prompts.js";
import { THROUGHPUT_LATENCY_MS, THROUGHPUT_LEVELS, THROUGHPUT_PROMPT, THROUGHPUT_REPS, throughputBench, throughputRoundsLine, throughputTable, type ThroughputRun } from "./throughput.js";
import { fmt, mdTable, median, pct, progress } from "./util.js";
import { facesModelInfo } from "../src/observers/faces.js";
import { sseBench, type SseBenchResult } from "./sse.js";
import { FACES_IMAGES, FACES_REPS, PHOTO_PIXELS, facesBench, facesTable, skinToneTable, type FacesBenchResult } from "./faces.js";
import { fairfaceBench, fairfaceSection } from "./faces-fairface.js";
import { queueBench, queueSection } from "./queue.js";
import { calibrationSection } from "./calibration.js";
import { scalingBench, scalingRatios, scalingTable, type ScalingRow } from "./scaling.js";
import { renderBench, renderSection } from "./render.js";

type Section = "policy" | "overhead" | "throughput" | "faces" | "faces-fairface" | "sse" | "queue" | "scaling" | "render" | "calibration";
const SECTIONS: readonly Section[] = ["policy", "overhead", "throughput", "faces", "faces-fairface", "sse", "queue", "scaling", "render", "calibration"];

interface Args {
  write: boolean;
  only: Section[];
  prompts: number | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { write: false, only: [...SECTIONS], prompts: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const eq = a.indexOf("=");
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--write") args.write = true;
    else if (a.startsWith("--only")) {
      const list = value().split(",").map((s) => s.trim());
      for (const s of list) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (accepted: ${SECTIONS.join(", ")})`);
      args.only = list as Section[];
    } else if (a.startsWith("--prompts")) {
      const k = Number(value());
      if (!Number.isInteger(k) || k < 1) throw new Error("--prompts needs a whole number >= 1");
      args.prompts = k;
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node dist/bench/run.js [--write] [--only policy,overhead,throughput,faces,faces-fairface,sse,queue,scaling,render,calibration] [--prompts K]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.write && (args.prompts !== undefined || args.only.length !== SECTIONS.length)) {
    throw new Error("--write writes a full run only; drop --only and --prompts");
  }
  return args;
}

function promptsSection(prompts: readonly BenchPrompt[]): string {
  const rows = prompts.map((p) => [
    String(p.index),
    p.group,
    p.text,
    p.occupation ?? "(none: default)",
    fmt(p.maleShare, 2),
  ]);
  return mdTable(["#", "group", "prompt", "occupation the sim reads", "sim male share"], rows, ["r", "l", "l", "l", "r"]);
}

function policySection(res: PolicyResults, prompts: readonly BenchPrompt[]): string {
  const bigN = SIZES[SIZES.length - 1]!;
  const checks = goalChecks(res);
  const failed = checks.filter((c) => !c.pass);
  const parts: string[] = [];
  parts.push(`## 1. Policies on the simulated model

${res.runs} runs (${POLICIES.length} policies x ${TARGETS.length} targets x N in {${SIZES.join(", ")}} x ${prompts.length} prompts), ${fmt(res.ms / 1000, 1)} s.
Every run uses the simulated biased model \`sim\` with \`sim: { render: false }\`: no PNG is drawn, because the renderer
is not what is measured here (the observer reads the model's self-report, which the renderer does not change).
Runs are in memory (\`run(settings, { inMemory: true })\`), concurrency ${POLICY_CONCURRENCY} (the default), latency 0,
default attempt budget (max(10 N, N + 50)). The seed of a run is \`1000003 * (prompt index + 1) + 7 * N\`: the same
for every policy and target, so all policies see the same prompts with the same random streams.

**Columns.** *mean TV*: total variation distance between the kept set's distribution over the controlled
factor's cells and the target, averaged over runs (\`summary.factors[0].tv\`; 0 = on target, 1 = disjoint).
*mean max abs(p-q)*: the largest absolute gap of one cell's share from its target share, averaged over runs
(\`summary.factors[0].maxAbsDiff\`). *all bins exact*: share of runs whose kept set meets every integer bin
exactly (\`summary.exact\`). *gen/kept*: generations per kept image, the mean over runs of generations / kept
(1.00 = nothing thrown away). *max gen/kept*: the worst run. *budget hits*: runs that spent the attempt budget
before the set was complete. The *rounding floor* under each table is what a perfect run scores: N images
cannot meet non-integer target shares exactly.

**Targets.** (a) \`attributes: ["gender"]\`, (b) \`attributes: ["race"]\` (7 FairFace groups), (c)
\`joint: [["race", "gender"]]\` (14 cells), (d) \`attributes: ["skin_tone"]\` (Monk 1-10), (e)
\`target: { age: { "18-29": 1, "30-44": 2, "45-64": 2, "65+": 1 } }\`.

**Policies (rows).** *none*: the prompt unchanged. *eip*: an ethical intervention phrase ("irrespective of
their gender"). *random*: a category drawn from the target, prepended. *quota*: the bins dealt out as one
assignment per image, compliance assumed (open loop, Fair Diffusion style). *debiaspi direct*: the closed loop
asks for the cell with the largest deficit and fills bins from what the model reports; *discard* throws away
an image whose bin is full, *keep* keeps it. *effort order* (\`--order effort\`) asks first for the cell with the
largest expected number of generations still needed (deficit / the compliance observed so far for that cell), so
cells the model rarely honours are asked for while misses can still land in open bins. *debiaspi choice*: the
loop offers all open cells and the model picks.

### Prompts

20 occupations from the Fair Diffusion list (SD 1.5 male share from
data/fair-diffusion/results_fairface_generated_1-5.txt) as "a photo of the face of a {occupation}", and 10
headline-like prompts written for this bench (checked to name no gender, race, age, skin tone or build; the sim
reads an occupation from some of them and uses its prior). The occupation template is kept verbatim ("a photo of
the face of a artist"), as in the Fair Diffusion measurements.

${promptsSection(prompts)}

### Overview at N = ${bigN}: mean TV

${overviewTable(res, bigN)}

### Overview at N = ${bigN}: share of runs with every bin exact

${exactOverviewTable(res, bigN)}

### Goal checks

${checks.length - failed.length} of ${checks.length} checks pass. The goals are checked on the default rows (direct mode, largest-deficit
order): exact in >= 95 % of runs with discard for every target; at most 1.25 generations per kept image with
discard for gender, race and race x gender; mean max abs(p-q) <= 1.5/N with keep for every target.

${checks.map((c) => `- ${c.pass ? "PASS" : "**FAIL**"} ${c.text}`).join("\n")}
`);
  for (const t of TARGETS) {
    parts.push(`### Target ${t.label}\n\n${targetTable(res, t)}\n`);
  }
  parts.push(`### Cost of the Monk skin tone target

${monkCostTable(res)}

*discarded as overflow*: share of generations thrown away because the observed Monk level's bin was already full.

Why the Monk target costs more: \`sim\` honours a requested Monk level with probability 0.8, but only 0.12 for
Monk 1, 0.25 for Monk 2, 0.5 for Monk 3 and 0.7 for Monk 4 (\`compliance.categories.skin_tone\` in
src/providers/sim/params.ts), after the DebiasPI paper's report that the model struggles to produce the palest
skin tones. When a request is not honoured the tone is drawn from the model's own broad band, where Monk 1
and 2 are rare too (3 % and 10 % for a White person). Early in a run such misses still land in open bins and
are kept; once the mid-tone bins are full, each further try for Monk 1 succeeds about one time in eight and the
misses are thrown away, so the last Monk 1 and Monk 2 images cost several generations each. The smaller N is,
the larger the share of the run spent in that tail. Choice mode is dearer still: offered all open levels, the
model picks the ones it already favours (and still complies only partly), so the pale bins stay open until the
end and are then asked for with the same low compliance. With *keep* nothing is thrown away, but then the set
misses the target (see the *keep* bullet below).
${monkNumbers(res)}
`);
  parts.push(policyDiscussion(res));
  return parts.join("\n");
}

function monkNumbers(res: PolicyResults): string {
  const lines = SIZES.map((n) => {
    const m = findCell(res, "dpi-discard", "monk", n);
    const g = findCell(res, "dpi-discard", "gender", n);
    return `N=${n}: ${fmt(m.meanGpk, 2)} generations per kept image (worst run ${fmt(m.maxGpk, 2)}) against ${fmt(g.meanGpk, 2)} for gender`;
  });
  return `\nMeasured for debiaspi direct with discard: ${lines.join("; ")}.`;
}

/** Data-driven sentences about the policy results (so they stay true when the numbers change). */
function policyDiscussion(res: PolicyResults): string {
  const bigN = SIZES[SIZES.length - 1]!;
  const out: string[] = ["### What the policy tables show", ""];
  const range = (pid: string): string => {
    const tvs = TARGETS.map((t) => findCell(res, pid, t.id, bigN).meanTv);
    return `${fmt(Math.min(...tvs))}-${fmt(Math.max(...tvs))}`;
  };
  out.push(
    `- Open loop without control: at N=${bigN} *none* has mean TV ${range("none")} across the five targets and *eip* ${range("eip")}; ` +
      `the phrase moves gender a little (gender TV ${fmt(findCell(res, "none", "gender", bigN).meanTv)} -> ${fmt(findCell(res, "eip", "gender", bigN).meanTv)}). ` +
      `\`sim\` models the phrase's effect on gender only (\`eipGenderPull\`), and both policies draw from the same random streams, so *eip* and *none* give identical sets for race, Monk and age.`,
  );
  out.push(
    `- Open loop with requests: *random* (${range("random")}) and *quota* (${range("quota")}) ask for the right categories but never look at what came back; ` +
      `quota is exact in ${pct(findCell(res, "quota", "gender", bigN).exactShare)} of gender runs and ${pct(findCell(res, "quota", "monk", bigN).exactShare)} of Monk runs at N=${bigN}, because every ignored request is a miss that is never corrected.`,
  );
  const minExact = Math.min(...TARGETS.flatMap((t) => SIZES.map((n) => findCell(res, "dpi-discard", t.id, n).exactShare)));
  out.push(
    `- Closed loop: *debiaspi direct, discard* reaches mean TV ${range("dpi-discard")} at N=${bigN} ` +
      (minExact >= 1
        ? `and is exact in every one of its ${TARGETS.length * SIZES.length * res.cells[0]!.runs.length} runs (all targets, all N); `
        : `and is exact in at least ${pct(minExact, 1)} of the runs for every target and N; `) +
      `what TV remains is the rounding floor, not a miss.`,
  );
  const keepWorst = TARGETS.filter((t) => t.id !== "monk").flatMap((t) => SIZES.map((n) => ({ t: t.id, n, r: findCell(res, "dpi-keep", t.id, n).meanMax * n })));
  const worst = keepWorst.reduce((a, b) => (b.r > a.r ? b : a));
  const monkKeep = SIZES.map((n) => `N=${n}: ${fmt(findCell(res, "dpi-keep", "monk", n).meanMax * n, 1)}/N`).join(", ");
  out.push(
    `- *debiaspi direct, keep* never throws an image away (gen/kept 1.00); the price is that non-compliant images stay in the set. ` +
      `Outside the Monk target its mean max abs(p-q) is at most ${fmt(worst.r, 2)}/N (${worst.t}, N=${worst.n}), i.e. at most about one image off in the worst cell. ` +
      `On the Monk target it misses the 1.5/N goal (${monkKeep}) by design: \`sim\` honours Monk 1 one time in eight, so within N images the ` +
      `palest bins cannot be filled and the misses pile up in mid tones; only discarding (and paying for it, see the cost table) meets that target.`,
  );
  const effortGain = SIZES.map(
    (n) => `N=${n}: ${fmt(findCell(res, "dpi-discard", "monk", n).meanGpk, 2)} -> ${fmt(findCell(res, "dpi-discard-effort", "monk", n).meanGpk, 2)}`,
  ).join(", ");
  const effortKeep = SIZES.map(
    (n) => `N=${n}: ${fmt(findCell(res, "dpi-keep", "monk", n).meanMax, 3)} -> ${fmt(findCell(res, "dpi-keep-effort", "monk", n).meanMax, 3)}`,
  ).join(", ");
  const effortLower = SIZES.every((n) => findCell(res, "dpi-discard-effort", "monk", n).meanGpk < findCell(res, "dpi-discard", "monk", n).meanGpk);
  const keepWorse = SIZES.every((n) => findCell(res, "dpi-keep-effort", "monk", n).meanMax > findCell(res, "dpi-keep", "monk", n).meanMax);
  const effortShift = Math.max(
    ...TARGETS.filter((t) => t.id !== "monk").flatMap((t) =>
      SIZES.map((n) => Math.abs(findCell(res, "dpi-discard-effort", t.id, n).meanGpk - findCell(res, "dpi-discard", t.id, n).meanGpk)),
    ),
  );
  out.push(
    `- *effort order* ${effortLower ? "lowers" : "changes"} the Monk cost with discard (generations per kept image ${effortGain}) and moves the other targets' cost by at most ${fmt(effortShift, 3)} generations per kept image; ` +
      (keepWorse
        ? `with keep it does worse on Monk (mean max abs(p-q) ${effortKeep}), because early requests for the palest tones mostly miss and the misses fill the mid-tone bins. `
        : `with keep its Monk gap changes as follows (mean max abs(p-q) ${effortKeep}). `) +
      `It is an option (\`--order effort\`); the default order is the largest deficit.`,
  );
  const choiceCost = TARGETS.map((t) => `${t.id} ${fmt(findCell(res, "dpi-choice", t.id, bigN).meanGpk, 2)}`).join(", ");
  out.push(
    `- *debiaspi choice, discard* is exact as well, but costs more generations per kept image at N=${bigN} (${choiceCost}): the model picks among the offered cells with its own bias, so more images land in full bins.`,
  );
  return `${out.join("\n")}\n`;
}

function overheadSection(results: readonly OverheadResult[]): string {
  const mem = results.find((r) => r.c.id === "mem");
  const memUs = mem ? median(mem.usPerAttempt) : Number.NaN;
  const pass = memUs < 1000;
  const byId = (id: string): number => {
    const r = results.find((x) => x.c.id === id);
    return r ? median(r.usPerAttempt) : Number.NaN;
  };
  return `## 2. Engine overhead

Time per attempt of the whole loop, measured around \`run()\` (validation, policy, prompt composition, \`sim\`,
observer, tally, event recording and the final summary). One repetition is ${OVERHEAD_RUNS} runs of N=${OVERHEAD_N}
(${OVERHEAD_RUNS_PNG} runs for the two PNG cases, which are about 20 times slower, to keep the bench short), debiaspi
direct with discard, race x gender joint target, concurrency 4, \`sim\` latency 0, the 30 bench prompts in turn; a
warm-up of 2 runs precedes each case. The cases differ in \`sim.render\` (draw and encode a PNG
portrait per generation, or not) and in the store: \`{ inMemory: true }\`, or a real run folder (run.json,
events.jsonl, images/, pending/, lock, fsync at the end) in a temporary folder under os.tmpdir(), deleted afterwards.

**Columns.** *runs per rep*: runs x N in one repetition. *attempts per rep*: provider calls in one repetition
(a little over runs x N, since some images are discarded). *us per attempt*: wall time / attempts, in
microseconds; median and range over the repetitions.
*us per kept image*: wall time / kept images. *exact runs*: runs whose kept set met every bin.

${overheadTable(results)}

Goal (engine under 1 ms per image, in memory, no render): ${pass ? "PASS" : "**FAIL**"}, ${fmt(memUs, 1)} us per attempt.
With rendering on, the time per image is ${fmt(byId("mem-png"), 0)} us in memory; that is the simulated model drawing
and zlib-encoding a portrait (src/image/portrait.ts), not the engine: the PNG adds about
${fmt(byId("mem-png") - byId("mem"), 0)} us per attempt. The run folder adds about ${fmt(byId("disk") - byId("mem"), 0)} us per attempt
without images (event line appended) and ${fmt(byId("disk-png") - byId("mem-png"), 0)} us with them (content hash, atomic image
write, pending record written and removed, event line appended). Against a real model's seconds per
image all of this is negligible. The wide min-max ranges of the disk and PNG cases are noise: this 2-core machine
was shared with other work while the bench ran, and file-system writeback comes in bursts;
the medians are the figures to read.
`;
}

function throughputSection(rows: readonly ThroughputRun[]): string {
  const top = Math.max(...THROUGHPUT_LEVELS.map((l) => l.concurrency));
  const topRows = rows.filter((r) => r.concurrency === top);
  const minTop = Math.min(...topRows.map((r) => r.imagesPerSecond));
  const allExact = rows.every((r) => r.exact);
  const pass = minTop >= 12 && topRows.every((r) => r.exact);
  const perLevel = THROUGHPUT_LEVELS.map((l) => {
    const rs = rows.filter((r) => r.concurrency === l.concurrency);
    const ips = rs.map((r) => r.imagesPerSecond);
    return `C=${l.concurrency}: ${fmt(ips.reduce((a, b) => a + b, 0) / ips.length, 2)} images/s (${pct(ips.reduce((a, b) => a + b, 0) / ips.length / l.concurrency)} of ideal)`;
  });
  return `## 3. Throughput under latency

Kept images per second with \`sim: { latencyMs: ${THROUGHPUT_LATENCY_MS}, render: false }\` (every generation takes
${THROUGHPUT_LATENCY_MS / 1000} s, as a slow real backend would), debiaspi direct with discard, gender x race joint target
(14 cells), prompt "${THROUGHPUT_PROMPT}", in memory, ${THROUGHPUT_REPS} runs (seeds) per concurrency. N grows with the
concurrency so each run takes about 10-15 s.

**Columns.** *wall s*: time of the \`run()\` call. *kept images/s*: kept / wall s. *ideal images/s*: concurrency /
latency, the ceiling if no generation were wasted and every slot were always busy. *generations*: images generated
(kept, overflow, surplus). *gen/kept*: generations per kept image. *exact*: every bin met.

${throughputTable(rows)}

Mean per level: ${perLevel.join("; ")}.

${throughputRoundsLine(rows)}

Goal (at least 12 images/s at concurrency ${top}, exactness unchanged): ${pass ? "PASS" : "**FAIL**"}; slowest run at C=${top}:
${fmt(minTop, 2)} images/s; ${allExact ? "every run at every concurrency was exact" : "**not every run was exact**"}.
The gap to the ideal comes from discarded generations (gen/kept above 1: every round of C generations takes the
full latency, so a run needs at least generations / C rounds) and from the tail of a run: once free slots have idled
${ENDGAME_GRACE_MS} ms with the last images covered by the requests in flight, the loop over-requests (about two standard
deviations more than the keep rate says) so that a miss does not cost another round, and cancels what is still in
flight when the set completes.
`;
}

function facesSection(res: FacesBenchResult): string {
  const px = res.rows.filter((r) => !r.id.startsWith("photo-"));
  const slowest = Math.min(...px.map((r) => median(r.pooledPerSecond)));
  const single = px.filter((r) => r.faces === 1).map((r) => median(r.pooledPerSecond));
  const slowestSingle = single.length > 0 ? Math.min(...single) : Number.NaN;
  const pass = slowestSingle >= 4;
  const ratioOf = (rows: readonly { id: string; perSecond: number[] }[]): number => {
    const big = rows.find((r) => r.id === "photo-1.8MP");
    const small = rows.find((r) => r.id === "photo-512");
    return big && small ? median(small.perSecond) / median(big.perSecond) : Number.NaN;
  };
  const skinRatio = ratioOf(res.skin);
  const facesRatio = ratioOf(res.rows.map((r) => ({ id: r.id, perSecond: r.pooledPerSecond })));
  const cores = px.map((r) => median(r.pooledPerSecond) / median(r.imagesPerSecond));
  return `## 4. The \`faces\` observer on CPU

Steady-state speed of \`faces\` (human ${facesModelInfo().version} on tfjs ${facesModelInfo().tfjs}'s WASM backend: blazeface, facemesh, faceres; then the skin
colour of each face inside its mesh outline). Every image is decoded by sharp (src/image/decode.ts: EXIF orientation,
downscaled to 1024 px on the long side before the models and the skin measure see it). By default the observer analyses images on
worker threads, one per core (here ${res.workers}), each with its own copy of the models; the engine observes images as
they arrive, so with \`--concurrency\` above 1 several are analysed at once. Model load, once per thread: ${fmt(res.loadMs, 0)} ms,
not counted below. Each image is observed 3 times to warm up (and twice per thread), then ${FACES_IMAGES} times per
repetition (the group photo ${FACES_IMAGES / 4} times, the photo sizes ${FACES_IMAGES / 3}), ${FACES_REPS} repetitions.

**Columns.** *persons*: people the observer reports. *images/s, worker threads*: whole \`observe()\` calls per second
(decode, models, labels, skin) with as many images in flight as threads. *one thread*: \`workers: 0\`, one image at a
time in the calling thread. *threads / one*: how much the worker threads add (${res.workers}.00x = every core busy).
*ms decode*: median decode and downscale. *ms models + skin*: median of \`measureFaces\` on decoded pixels.

${facesTable(res)}

Goal (at least 4 images per second at 512x512): ${pass ? "PASS" : "**FAIL**"} for one-person images (slowest ${fmt(slowestSingle, 2)} images/s);
the group photo with several faces runs at ${fmt(slowest, 2)} images/s, since facemesh and faceres run once per face.

**Photo size (issue 14).** The same photo at ${fmt(PHOTO_PIXELS / 1e6, 1)} MP and at 512 px: \`faces\` takes ${fmt(facesRatio, 2)}x the time per image at ${fmt(PHOTO_PIXELS / 1e6, 1)} MP.
\`skin-tone\` (whole-image measure, downscaled to 512 px by sharp before any pixel is classified):

${skinToneTable(res.skin)}

Goals: \`skin-tone\` on ${fmt(PHOTO_PIXELS / 1e6, 1)} MP photos within 2x of the same photos at 512 px: ${skinRatio <= 2 ? "PASS" : "**FAIL**"} (${fmt(skinRatio, 2)}x).
\`faces\` keeps both cores busy: worker threads give ${cores.map((c) => `${fmt(c, 2)}x`).join(", ")} the one-thread rate (ideal ${res.workers}.00x on an idle machine;
on a shared machine the other processes take their share of the cores, so read these as a lower bound).
`;
}

function sseSection(rows: readonly SseBenchResult[]): string {
  const mb = (b: number): string => (b / 1e6).toFixed(2);
  return `## 6. Dashboard: late watchers of a finished run

${rows[0]?.watchers ?? 0} watchers open the event stream of a finished run and read nothing (a stalled tab, a script that
forgot the stream). The watchers run in another process; the server's memory is heap + external + array buffers after a garbage
collection, before and after they connect (kernel socket buffers are not in it). Bounded memory per watcher shows as
the same growth for a short and a long replay.

${mdTable(
  ["run N", "events", "replay per watcher (MB)", "memory growth (MB)", "growth per watcher (KB)", "growth per watcher / replay"],
  rows.map((r) => [String(r.n), String(r.events), mb(r.replayBytes), mb(r.growthBytes), fmt(r.growthBytes / r.watchers / 1e3, 1), fmt(r.growthBytes / r.watchers / r.replayBytes, 3)]),
)}
`;
}

function scalingSection(rows: readonly ScalingRow[]): string {
  return `## 8. Scaling

Whole runs on disk (run folder, events.jsonl, images), the way \`debiaspi run\` writes them, each in its own
process (its peak RSS is \`process.resourceUsage().maxRSS\`): sim at latency 0, debiaspi direct/discard unless the
case names another policy, prompt "a photo of the face of a CEO", seed 11, concurrency 4, race x gender (14 cells)
or race x gender x age x body type (224 cells). *rendered*: a portrait per generation (\`sim: { render: true }\`, the
default), named and drawn when looked at (nothing is drawn during these runs); *rendered, --image-files*: each portrait
drawn, PNG-encoded and written to images/ as it is generated; *no render*: \`--no-render\`. The paper study is studies/debiaspi-paper.yaml (concurrency 1 per cell),
with \`--jobs 1\` and \`--jobs 2\` (cells in worker threads). *us per generation*: wall time / images generated.

${scalingTable(rows)}

${scalingRatios(rows).map((l) => `- ${l}`).join("\n")}
`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const started = new Date();
  let prompts = benchPrompts();
  if (args.prompts !== undefined) prompts = prompts.slice(0, args.prompts);
  progress(`${prompts.length} prompts; sections: ${args.only.join(", ")}`);

  const sections: string[] = [];
  if (args.only.includes("policy")) sections.push(policySection(await policyBench(prompts), prompts));
  if (args.only.includes("overhead")) sections.push(overheadSection(await overheadBench(benchPrompts())));
  if (args.only.includes("throughput")) sections.push(throughputSection(await throughputBench()));
  if (args.only.includes("faces")) sections.push(facesSection(await facesBench()));
  if (args.only.includes("faces-fairface")) sections.push(fairfaceSection(await fairfaceBench()));
  if (args.only.includes("sse")) sections.push(sseSection(await sseBench()));
  if (args.only.includes("queue")) sections.push(queueSection(await queueBench()));
  if (args.only.includes("scaling")) sections.push(scalingSection(scalingBench()));
  if (args.only.includes("render")) sections.push(renderSection(await renderBench()));
  if (args.only.includes("calibration")) sections.push(await calibrationSection());
  const seconds = (performance.now() - t0) / 1000;
  progress(`done in ${seconds.toFixed(1)} s`);

  const cpu = cpus();
  const command = `npm run build && node dist/bench/run.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
  const header = `# Benchmarks

Produced by \`${command}\` (\`npm run bench -- --write\` builds and runs the same) on ${started.toISOString()}.
Node ${process.version}, ${platform()} ${release()}, ${cpu.length} CPU${cpu.length === 1 ? "" : "s"} (${cpu[0]?.model.trim() ?? "unknown model"}).
The whole bench took ${seconds.toFixed(0)} s. Progress goes to stderr; these tables go to stdout.

Everything here runs against \`sim\`, the simulated biased text-to-image model (src/providers/sim/params.ts), with
the self-report observer. The numbers say how the control policies and the engine behave on that model; they are
not measurements of any real text-to-image model. Re-running gives the same policy tables (all seeds are fixed);
the timings vary with the machine and its load. Sections: 1. policies (quality and cost), 2. engine overhead,
3. throughput under latency, 4. the \`faces\` observer's speed on CPU (real sample photographs and sim renders), 5. scaling.
`;
  const body = sections.join("\n");
  process.stdout.write(`${body}\n`);
  if (args.write) {
    const path = join(packageRoot(), "BENCHMARKS.md");
    writeFileSync(path, `${header}\n${body}`);
    progress(`wrote ${path}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
