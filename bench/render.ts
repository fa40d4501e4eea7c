/**
 * Issue 14: what rendering costs in a `sim` run. Whole runs of N = RENDER_N with and without `--no-render`, in a
 * run folder and in memory (so the store's share shows apart from the renderer's), then the renderer alone:
 * rasterising, encoding, and the deflate settings the palette PNG could use (time and size).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, deflateSync, type ZlibOptions } from "node:zlib";
import { run } from "../src/api.js";
import { encodeIndexedPng, encodeOpaquePng, INDEXED_DEFLATE } from "../src/providers/sim/png.js";
import { drawPortrait, renderPortraitRGBA, type PortraitSpec } from "../src/providers/sim/render.js";
import { fmt, mdTable, median, progress } from "./util.js";

export const RENDER_N = 10_000;
export const RENDER_REPS = 3;
/** Portraits per repetition of the renderer-alone measures. */
export const RENDER_SPECS = 2000;
/** Portraits whose pixels are encoded in the encoder measures. */
const DEFLATE_SPECS = 500;

export interface RenderRunCase {
  id: "disk" | "disk-png" | "mem" | "mem-png";
  disk: boolean;
  render: boolean;
}
const RUN_CASES: readonly RenderRunCase[] = [
  { id: "disk", disk: true, render: false },
  { id: "disk-png", disk: true, render: true },
  { id: "mem", disk: false, render: false },
  { id: "mem-png", disk: false, render: true },
];

export interface RenderRun {
  c: RenderRunCase;
  /** Per repetition: wall and CPU (user + system of this process) microseconds per generation. */
  wallUs: number[];
  cpuUs: number[];
  generations: number;
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

async function oneRun(c: RenderRunCase, rep: number): Promise<{ wallUs: number; cpuUs: number; generations: number }> {
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
        sim: { render: c.render, latencyMs: 0 },
        ...(dir ? { out: dir } : {}),
      },
      dir ? { dir: join(dir, "run") } : { inMemory: true },
    );
    const cpu = cpuNow() - c0;
    const wall = (performance.now() - t0) * 1000;
    return { wallUs: wall / summary.generations, cpuUs: cpu / summary.generations, generations: summary.generations };
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
  const runs: RenderRun[] = RUN_CASES.map((c) => ({ c, wallUs: [], cpuUs: [], generations: 0 }));
  // Warm-up (JIT, module loading), then the cases interleaved per repetition so load drifts hit each alike.
  await oneRun({ id: "mem-png", disk: false, render: true }, -1);
  for (let rep = 0; rep < RENDER_REPS; rep++) {
    for (const r of runs) {
      progress(`render: run ${r.c.id}, rep ${rep + 1}/${RENDER_REPS}`);
      const m = await oneRun(r.c, rep);
      r.wallUs.push(m.wallUs);
      r.cpuUs.push(m.cpuUs);
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
    "disk-png": "run folder, rendered",
    mem: "in memory, --no-render",
    "mem-png": "in memory, rendered",
  };
  const runRows = res.runs.map((r) => [
    label[r.c.id],
    String(r.generations),
    fmt(median(r.wallUs), 0),
    `${fmt(Math.min(...r.wallUs), 0)}-${fmt(Math.max(...r.wallUs), 0)}`,
    fmt(median(r.cpuUs), 0),
  ]);
  const ratioWall = wall("disk-png") / wall("disk");
  const ratioCpu = cpu("disk-png") / cpu("disk");
  const draw = median(res.drawUs);
  const enc = median(res.encodeUs);
  const renderInRun = wall("mem-png") - wall("mem");
  const storeInRun = wall("disk-png") - wall("mem-png") - (wall("disk") - wall("mem"));
  const deflateRows = res.deflate.map((r) => [r.label, fmt(median(r.us), 1), fmt(r.bytes, 0)]);
  return `## 8b. Rendering cost (issue 14)

Whole runs of N = ${RENDER_N} (sim at latency 0, debiaspi direct/discard, race x gender, prompt "a photo of the face of a CEO",
concurrency 4, seed 11 + repetition), in one process, the four cases interleaved per repetition, ${RENDER_REPS} repetitions (median,
and the wall-time range); *run folder* writes run.json, events.jsonl and, when rendered, \`images/\` and \`pending/attempts.jsonl\` (one
content-addressed PNG and one pending record per generation); *in memory* counts images and keeps nothing. *CPU us* is
user + system time of the process per generation, which load from other processes inflates less than wall time.

${mdTable(["case", "generations", "wall us / generation", "range", "CPU us / generation"], runRows)}

Rendered / no-render in a run folder: **${fmt(ratioWall, 2)}x** wall time, ${fmt(ratioCpu, 2)}x CPU time (goal: at most 3x).
Of the rendered run's extra ${fmt(wall("disk-png") - wall("disk"), 0)} us per generation, drawing and encoding take about
${fmt(renderInRun, 0)} us (in-memory rendered minus in-memory no-render) and the store about ${fmt(storeInRun, 0)} us (hash, the image
written to a temp file and renamed, the pending record appended to pending/attempts.jsonl).

**The renderer alone** (${RENDER_SPECS} portraits over every gender, age band, body type and Monk level, median of ${RENDER_REPS},
CPU time): rasterising ${fmt(draw, 1)} us per portrait, encoding the palette PNG ${fmt(enc, 1)} us (${fmt(res.pngBytes, 0)} bytes); the RGBA PNG the
renderer wrote before issue 14 (deflate level 2) takes ${fmt(median(res.rgbaEncodeUs), 1)} us to encode (${fmt(res.rgbaPngBytes, 0)} bytes) for the same pixels.

deflate settings on the palette scanlines (${DEFLATE_SPECS} portraits, 20,640 bytes each; CPU us per portrait, mean compressed bytes):

${mdTable(["deflate", "us / portrait", "bytes"], deflateRows)}
`;
}
