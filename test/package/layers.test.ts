/**
 * The layering rules of docs/architecture.md, checked on the source: no import cycle between files, no import
 * from a lower layer to a higher one, and none between the peers that must not know each other (observers do not
 * import providers). What still breaks a rule is listed in KNOWN below; the test fails when a new break appears AND
 * when a listed one is mended (so the list only shrinks and stays true). Issue 12 empties it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

/** Layer of each top-level folder or file of src/ (lower imports nothing higher). */
const LAYER: Record<string, number> = {
  core: 0,
  util: 0,
  calibration: 1,
  image: 1,
  http: 1,
  prompts: 1,
  providers: 2,
  observers: 2,
  policies: 2,
  store: 2,
  config: 3,
  engine: 3,
  analysis: 3,
  queue: 4,
  report: 4,
  api: 5,
  app: 5,
  audit: 5,
  calibrate: 5,
  plan: 5,
  experiments: 5,
  server: 6,
  cli: 6,
  index: 7,
};

/** Peers on one layer that must not import each other (from -> to). */
const FORBIDDEN_PEERS: readonly (readonly [string, string])[] = [
  ["observers", "providers"],
  ["providers", "observers"],
  ["policies", "providers"],
  ["policies", "observers"],
];

/** Breaks that exist today (issue 12). Remove a line when its break is mended. */
const KNOWN: readonly string[] = [
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const rel = (p: string): string => relative(SRC, p).split(sep).join("/");
const top = (r: string): string => r.split("/")[0]!.replace(/\.ts$/, "");

/** Relative imports of a file (static `import`/`export ... from` and dynamic `import()`), as src-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s+["'](\.{1,2}\/[^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => rel(join(dirname(file), s.replace(/\.js$/, ".ts"))));
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sourceFiles(SRC)) g.set(rel(f), [...new Set(importsOf(f))].sort());
  return g;
}

/** Every import that lies on a cycle: the edge a -> b where a can be reached again from b. */
function cycles(g: Map<string, string[]>): string[] {
  const reach = (from: string, target: string): boolean => {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (at === target) return true;
      for (const next of g.get(at) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return false;
  };
  const out: string[] = [];
  for (const [from, tos] of g) for (const to of tos) if (g.has(to) && reach(to, from)) out.push(`cycle: ${from} -> ${to}`);
  return out.sort();
}

function layerBreaks(g: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, tos] of g) {
    const a = top(from);
    for (const to of tos) {
      const b = top(to);
      if (a === b) continue;
      const la = LAYER[a];
      const lb = LAYER[b];
      if (la === undefined || lb === undefined) continue; // reported by the "every folder has a layer" test
      if (lb > la || FORBIDDEN_PEERS.some(([x, y]) => x === a && y === b)) out.push(`layer: ${from} -> ${to}`);
    }
  }
  return out.sort();
}

describe("layers (docs/architecture.md)", () => {
  const g = graph();

  it("gives every top-level folder and file of src/ a layer", () => {
    const unplaced = [...new Set([...g.keys()].map(top))].filter((t) => LAYER[t] === undefined).sort();
    expect(unplaced).toEqual([]);
  });

  it("resolves every relative import to a file in src/", () => {
    const dangling = [...g].flatMap(([from, tos]) => tos.filter((t) => !g.has(t)).map((t) => `${from} -> ${t}`));
    expect(dangling).toEqual([]);
  });

  it("has no break beyond the known ones, and every known one still exists", () => {
    const breaks = [...layerBreaks(g), ...cycles(g)].sort();
    expect(breaks).toEqual([...KNOWN].sort());
  });

  it("finds a cycle and an upward import when they are there (the checker can fail)", () => {
    const fake = new Map<string, string[]>([
      ["core/a.ts", ["engine/b.ts"]],
      ["engine/b.ts", ["core/a.ts"]],
    ]);
    expect(cycles(fake)).toEqual(["cycle: core/a.ts -> engine/b.ts", "cycle: engine/b.ts -> core/a.ts"]);
    expect(layerBreaks(fake)).toEqual(["layer: core/a.ts -> engine/b.ts"]);
  });
});
