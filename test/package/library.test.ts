import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { builtinTaxonomy, run, SimModel, type GenerateRequest, type GenerateResult, type ImageProvider } from "../../src/index.js";
import { tempDir } from "../cli/helpers.js";

const ROOT = resolve(__dirname, "../..");

/** A custom backend (a user's own provider object) that draws with sim and records every call. */
class CountingProvider implements ImageProvider {
  readonly id = "my-backend";
  readonly starts: number[] = [];
  private readonly sim = new SimModel(builtinTaxonomy());
  async generate(req: GenerateRequest): Promise<GenerateResult> {
    this.starts.push(Date.now());
    return this.sim.generate(req);
  }
}

describe("a custom provider object passed to the library", () => {
  it("gets the response cache: a rerun of the same settings pays nothing; cache: false calls again", async () => {
    const out = tempDir();
    const settings = { prompt: "a photo of a nurse", attributes: ["gender"], n: 6, seed: 9, concurrency: 1, out };
    const first = new CountingProvider();
    const a = await run(settings, { provider: first });
    expect(first.starts.length).toBe(a.summary.attempts);
    const second = new CountingProvider();
    const b = await run(settings, { provider: second });
    expect(second.starts).toHaveLength(0);
    expect(b.summary.kept).toBe(6);
    const third = new CountingProvider();
    await run({ ...settings, cache: false }, { provider: third });
    expect(third.starts.length).toBe(a.summary.attempts);
  });

  it("gets the rate limit: requests start at most `rate` per second even at concurrency 4", async () => {
    const p = new CountingProvider();
    const begin = Date.now();
    await run({ prompt: "a photo of a judge", attributes: ["gender"], n: 4, seed: 2, concurrency: 4, rate: 20, cache: false, out: tempDir() }, { provider: p });
    expect(p.starts.length).toBeGreaterThanOrEqual(4);
    // 20 per second: the k-th request starts no earlier than k x 50 ms after the run began. (Slots are
    // absolute, so under load one late wake-up can sit closer to the next; the cumulative bound cannot.)
    const starts = [...p.starts].sort((x, y) => x - y);
    starts.forEach((t, k) => expect(t - begin).toBeGreaterThanOrEqual(k * 50 - 2));
  });
});

describe("the README's library example", () => {
  it("type-checks under strict TypeScript against the package's API", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Library\n"));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, "a ```ts block under ## Library").toBeDefined();
    expect(code).toMatch(/from "debiaspi"/);
    // A user's project: an ES module that depends on debiaspi, resolved through the package's "exports" to its built .d.ts files.
    expect(existsSync(join(ROOT, "dist/src/index.d.ts")), "dist/ is built (npm run build)").toBe(true);
    const dir = tempDir();
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "debiaspi"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies: { debiaspi: "*" } }));
    const file = join(dir, "example.ts");
    writeFileSync(file, code!);
    const options: ts.CompilerOptions = {
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [join(ROOT, "node_modules/@types")],
    };
    const program = ts.createProgram([file], options);
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file || d.file === undefined);
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(text).toEqual([]);
  }, 60_000);
});

describe("the npm package", () => {
  it("ships the studies, the docs and an MIT LICENSE matching package.json", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { license: string; files: string[] };
    expect(pkg.files).toEqual(expect.arrayContaining(["bin", "dist", "data", "studies", "docs", "README.md", "LICENSE"]));
    expect(pkg.license).toBe("MIT");
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} debiaspi contributors\n/);
    // What the README points users at is in the package.
    expect(existsSync(join(ROOT, "studies/debiaspi-paper.yaml"))).toBe(true);
    expect(existsSync(join(ROOT, "docs/export-schema.md"))).toBe(true);
  });
});
