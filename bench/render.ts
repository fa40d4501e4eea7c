/**
 * Issue 14: what images cost in a `sim` run. Whole runs of N = RENDER_N: `--no-render`; the default (each portrait
 * named, drawn when looked at: image/drawing.ts); `--image-files` (each portrait drawn, encoded and written as it is
 * generated, as before); in a run folder and in memory (so the store's share shows apart from the renderer's). Then
 * what looking costs (every image of a drawn run read back, drawn on demand), and the renderer alone: rasterising,
 * encoding, and the deflate settings the palette PNG could use (time and size).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, deflateSync, type ZlibOptions } from "node:zlib";
import { run } from "../src/api.js";
import { readRunImage } from "../src/store/images.js";
import { encodeIndexedPng, encodeOpaquePng, INDEXED_DEFLATE } from "../src/image/png.js";
import { drawPortrait, renderPortraitRGBA, type PortraitSpec } from "../src/image/portrait.js";
import { fmt, mdTable, median, progress } from "./util.js";

export const RENDER_N = 10_000;
export const RENDER_REPS = 3;
/** Portraits per repetition of the renderer-alone measures. */
export const RENDER_SPECS = 2000;
/** Portraits whose pixels are encoded in the encoder measures. */
const DEFLATE_SPECS = 500;

export interface RenderRunCase {
  id: "disk" | "disk-drawn" | "disk-files" | "mem" | "mem-files";
  disk: boolean;
  render: boolean;
  /** sim.imageFiles: each portrait drawn, encoded and written as it is generated. */
  files: boolean;
}
const RUN_CASES: readonly RenderRunCase[] = [
  { id: "disk", disk: true, render: false, files: false },
  { id: "disk-drawn", disk: true, render: true, files: false },
  { id: "disk-files", disk: true, render: true, files: true },
  { id: "mem", disk: false, render: false, files: false },
  { id: "mem-files", disk: false, render: true, files: true },
];

export interface RenderRun {
  c: RenderRunCase;
  /** Per repetition: wall and CPU (user + system of this process) microseconds per generation. */
  wallUs: number[];
  cpuUs: number[];
  generations: number;
  /** disk-drawn only, per repetition: wall microseconds per image to read every image the run named (drawn on demand). */
  viewUs: number[];
}

export interface DeflateRow {
  label: string;
  options: ZlibOptions;
  us: number[];
  bytes: number;
}

export interface RenderBenchResult {
  runs: RenderRun[];
  /** Microseconds per portrait, per repetition: rasterise, palette PNG, and the RGBA PNG the renderer wrote before. */
  drawUs: number[];
  encodeUs: number[];
  rgbaEncodeUs: number[];
  pngBytes: number;
  rgbaPngBytes: number;
  deflate: DeflateRow[];
}

const GENDERS = ["female", "male", undefined] as const;
const AGES = ["18-29", "30-44", "45-64", "65+"] as const;
const BODIES = ["slim", "average", "athletic", "plus_size"] as const;

function specAt(i: number): PortraitSpec {
  const gender = GENDERS[i % 3];
  return {
    skinTone: 1 + (i % 10),
    ...(gender ? { gender } : {}),
    age: AGES[Math.floor(i / 3) % 4]!,
    bodyType: BODIES[Math.floor(i / 12) % 4]!,
    seed: Math.imul(i + 1, 2654435761) >>> 0,
  };
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function oneRun(c: RenderRunCase, rep: number): Promise<{ wallUs: number; cpuUs: number; generations: number; viewUs?: number }> {
  const dir = c.disk ? mkdtempSync(join(tmpdir(), "debiaspi-bench-render-")) : undefined;
  try {
    const t0 = performance.now();
    const c0 = cpuNow();
    const { summary } = await run(
      {
        prompt: "a photo of the face of a CEO",
        n: RENDER_N,
        joint: [["race", "gender"]],
        policy: "debiaspi",
        seed: 11 + rep,
        sim: { render: c.render, imageFiles: c.files, latencyMs: 0 },
        ...(dir ? { out: dir } : {}),
      },
      dir ? { dir: join(dir, "run") } : { inMemory: true },
    );
    const cpu = cpuNow() - c0;
    const wall = (performance.now() - t0) * 1000;
    const out = { wallUs: wall / summary.generations, cpuUs: cpu / summary.generations, generations: summary.generations };
    if (!dir || c.files || !c.render) return out;
    // What a person looking at every image pays: each read through the store, drawn from its name.
    const named = readFileSync(join(dir, "run", "events.jsonl"), "utf8")
      .split("\n")
      .flatMap((l) => (l.includes('"image":"') ? [(JSON.parse(l) as { image: string }).image] : []));
    const v0 = performance.now();
    let bytes = 0;
    for (const rel of named) bytes += readRunImage(join(dir, "run"), rel)?.bytes.length ?? 0;
    if (bytes === 0) throw new Error("render bench: the drawn run named no readable image");
    return { ...out, viewUs: ((performance.now() - v0) * 1000) / named.length };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const DEFLATE_ROWS: readonly { label: string; options: ZlibOptions }[] = [
  { label: "level 1, Z_RLE (used)", options: INDEXED_DEFLATE },
  { label: "level 1", options: { level: 1 } },
  { label: "level 2", options: { level: 2 } },
  { label: "level 3", options: { level: 3 } },
  { label: "level 6 (zlib default)", options: { level: 6 } },
  { label: "level 9, Z_RLE", options: { level: 9, strategy: constants.Z_RLE } },
];

/** CPU microseconds (user + system of this process) per item: on a shared machine less inflated than wall time. */
function timeEach<T>(items: readonly T[], f: (x: T) => void): number {
  const c0 = cpuNow();
  for (const x of items) f(x);
  return (cpuNow() - c0) / items.length;
}

export async function renderBench(): Promise<RenderBenchResult> {
  const runs: RenderRun[] = RUN_CASES.map((c) => ({ c, wallUs: [], cpuUs: [], generations: 0, viewUs: [] }));
  // Warm-up (JIT, module loading), then the cases interleaved per repetition so load drifts hit each alike.
  await oneRun({ id: "mem-files", disk: false, render: true, files: true }, -1);
  for (let rep = 0; rep < RENDER_REPS; rep++) {
    for (const r of runs) {
      progress(`render: run ${r.c.id}, rep ${rep + 1}/${RENDER_REPS}`);
      const m = await oneRun(r.c, rep);
      r.wallUs.push(m.wallUs);
      r.cpuUs.push(m.cpuUs);
      if (m.viewUs !== undefined) r.viewUs.push(m.viewUs);
      r.generations = m.generations;
    }
  }

  progress("render: rasteriser and encoder alone");
  const specs = Array.from({ length: RENDER_SPECS }, (_, i) => specAt(i));
  const rgba = specs.slice(0, DEFLATE_SPECS).map((s) => renderPortraitRGBA(s).data);
  const drawn = specs.slice(0, DEFLATE_SPECS).map((s) => {
    const p = drawPortrait(s);
    return { ...p, scanlines: p.scanlines.slice() };
  });
  const drawUs: number[] = [];
  const encodeUs: number[] = [];
  const rgbaEncodeUs: number[] = [];
  let pngBytes = 0;
  let rgbaPngBytes = 0;
  for (let rep = 0; rep < RENDER_REPS + 1; rep++) {
    const d = timeEach(specs, (s) => drawPortrait(s));
    let bytes = 0;
    const e = timeEach(drawn, (p) => {
      bytes += encodeIndexedPng(p.width, p.height, p.scanlines, p.palette).length;
    });
    let rgbaBytes = 0;
    const o = timeEach(rgba, (px) => {
      rgbaBytes += encodeOpaquePng(128, 160, px).length;
    });
    if (rep === 0) continue; // warm-up
    drawUs.push(d);
    encodeUs.push(e);
    rgbaEncodeUs.push(o);
    pngBytes = bytes / drawn.length;
    rgbaPngBytes = rgbaBytes / rgba.length;
  }

  const deflate: DeflateRow[] = DEFLATE_ROWS.map((r) => ({ ...r, us: [], bytes: 0 }));
  for (let rep = 0; rep < RENDER_REPS + 1; rep++) {
    for (const row of deflate) {
      let bytes = 0;
      const us = timeEach(drawn, (p) => {
        bytes += deflateSync(p.scanlines, row.options).length;
      });
      if (rep === 0) continue;
      row.us.push(us);
      row.bytes = bytes / drawn.length;
    }
  }
  return { runs, drawUs, encodeUs, rgbaEncodeUs, pngBytes, rgbaPngBytes, deflate };
}

export function renderSection(res: RenderBenchResult): string {
  const by = (id: RenderRunCase["id"]): RenderRun => res.runs.find((r) => r.c.id === id)!;
  const wall = (id: RenderRunCase["id"]): number => median(by(id).wallUs);
  const cpu = (id: RenderRunCase["id"]): number => median(by(id).cpuUs);
  const label: Record<RenderRunCase["id"], string> = {
    disk: "run folder, --no-render",
    "disk-drawn": "run folder, rendered (default: drawn when looked at)",
    "disk-files": "run folder, rendered, --image-files",
    mem: "in memory, --no-render",
    "mem-files": "in memory, rendered, image bytes",
  };
  const runRows = res.runs.map((r) => [
    label[r.c.id],
    String(r.generations),
    fmt(median(r.wallUs), 0),
    `${fmt(Math.min(...r.wallUs), 0)}-${fmt(Math.max(...r.wallUs), 0)}`,
    fmt(median(r.cpuUs), 0),
  ]);
  const ratioWall = wall("disk-drawn") / wall("disk");
  const ratioCpu = cpu("disk-drawn") / cpu("disk");
  const filesWall = wall("disk-files") / wall("disk");
  const filesCpu = cpu("disk-files") / cpu("disk");
  const view = median(by("disk-drawn").viewUs);
  const draw = median(res.drawUs);
  const enc = median(res.encodeUs);
  const renderInRun = wall("mem-files") - wall("mem");
  const storeInRun = wall("disk-files") - wall("mem-files") - (wall("disk") - wall("mem"));
  const deflateRows = res.deflate.map((r) => [r.label, fmt(median(r.us), 1), fmt(r.bytes, 0)]);
  return `## 8b. Rendering cost (issue 14)

Whole runs of N = ${RENDER_N} (sim at latency 0, debiaspi direct/discard, race x gender, prompt "a photo of the face of a CEO",
concurrency 4, seed 11 + repetition, the self-report observer), in one process, the ${RUN_CASES.length} cases interleaved per repetition,
${RENDER_REPS} repetitions (median, and the wall-time range). *run folder* writes run.json and events.jsonl, and with
\`--image-files\` also \`images/\` and \`pending/attempts.jsonl\` (a PNG and a pending record per generation). By default (*drawn when looked at*) each generation names its
portrait (\`images/portrait-v1_...png\`, image/drawing.ts) and nothing is drawn or written until an observer or a reader asks
for it; with \`--image-files\` each portrait is drawn, PNG-encoded, hashed and written to \`images/\` as it is generated (what
every run did before). *in memory* keeps nothing; its rendered case makes the PNG bytes of every portrait. *CPU us* is user +
system time of the process per generation, which load from other processes inflates less than wall time.

${mdTable(["case", "generations", "wall us / generation", "range", "CPU us / generation"], runRows)}

Rendered (the default) / no-render in a run folder: **${fmt(ratioWall, 2)}x** wall time, ${fmt(ratioCpu, 2)}x CPU time (goal: at most 3x).
With \`--image-files\`: ${fmt(filesWall, 2)}x wall, ${fmt(filesCpu, 2)}x CPU. Of that run's extra ${fmt(wall("disk-files") - wall("disk"), 0)} us per
generation, drawing and encoding take about ${fmt(renderInRun, 0)} us (in-memory rendered minus in-memory no-render) and the store
about ${fmt(storeInRun, 0)} us (hash, the image written to a temp file and renamed).

**What looking costs.** Reading back every image a drawn run named (about ${fmt(by("disk-drawn").generations, 0)}, through the
store's one read path, each drawn from its name) took ${fmt(view, 0)} us per image (wall): a person, a report or an observer pays
this for each image it looks at, and nothing for the others. A pixel observer (\`skin-tone\`) gets a drawing's pixels straight
from the rasteriser, with no PNG encoded or decoded.

**The renderer alone** (${RENDER_SPECS} portraits over every gender, age band, body type and Monk level, median of ${RENDER_REPS},
CPU time): rasterising ${fmt(draw, 1)} us per portrait, encoding the palette PNG ${fmt(enc, 1)} us (${fmt(res.pngBytes, 0)} bytes); the RGBA PNG the
renderer wrote before issue 14 (deflate level 2) takes ${fmt(median(res.rgbaEncodeUs), 1)} us to encode (${fmt(res.rgbaPngBytes, 0)} bytes) for the same pixels.

deflate settings on the palette scanlines (${DEFLATE_SPECS} portraits, 20,640 bytes each; CPU us per portrait, mean compressed bytes):

${mdTable(["deflate", "us / portrait", "bytes"], deflateRows)}
`;
}
