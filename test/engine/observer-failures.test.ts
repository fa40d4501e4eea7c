import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunConfigInput } from "../../src/config/schema.js";
import type { Observation } from "../../src/core/request.js";
import { MAX_CONSECUTIVE_OBSERVER_FAILURES, MAX_CONSECUTIVE_UNLABELLED, runLoop } from "../../src/engine/engine.js";
import { getObserver } from "../../src/observers/index.js";
import type { Observer } from "../../src/observers/types.js";
import type { AttemptEvent, RunEvent } from "../../src/store/events.js";
import { cli, tempDir } from "../cli/helpers.js";
import { loopFor as loopWith } from "./helpers.js";

const settings: RunConfigInput = { prompt: "a photo of a nurse", attributes: ["gender"], n: 4, seed: 3, concurrency: 1, sim: { render: false } };

/** The loop on `settings` (overridden by `over`) with the given driving observer. */
const loopFor = (observer: Observer, over: RunConfigInput = {}) => loopWith({ ...settings, ...over }, { observer });

const attempts = (events: RunEvent[]): AttemptEvent[] => events.filter((e): e is AttemptEvent => e.type === "attempt");

/** An observer whose k-th call (from 0) answers `answer(k)`. */
function scripted(answer: (k: number) => Omit<Observation, "observer">): Observer & { calls: () => number } {
  let k = 0;
  return { id: "fake", calls: () => k, observe: async () => ({ observer: "fake", ...answer(k++) }) };
}

const DOWN = "fake error: connect ECONNREFUSED 127.0.0.1:9 (gave up after 5 tries)";
const down = (): Omit<Observation, "observer"> => ({ persons: [], note: DOWN, error: DOWN });

describe("the loop stops when its observer keeps failing", () => {
  it("stops after the threshold of failed observations in a row, naming the observer and its error", async () => {
    const { input, sink } = loopFor(scripted(down));
    const r = await runLoop(input);
    expect(r.status).toBe("observer-errors");
    expect(r.attempts).toBe(MAX_CONSECUTIVE_OBSERVER_FAILURES);
    expect(r.attempts).toBeLessThan(input.settings.maxAttempts);
    const message = `observer fake failed on ${MAX_CONSECUTIVE_OBSERVER_FAILURES} images in a row; the last: ${DOWN}`;
    expect(r.message).toBe(message);
    expect(sink.events.at(-1)).toEqual({ type: "end", t: "2026-01-01T00:00:00.000Z", reason: "observer-errors", message });
    expect(attempts(sink.events).every((e) => e.observation?.error === DOWN)).toBe(true);
  });

  it("with requests in parallel, stops issuing at the threshold and only finishes those in flight", async () => {
    const { input } = loopFor(scripted(down), { concurrency: 4, sim: { render: false, latencyMs: 2 } });
    const r = await runLoop(input);
    expect(r.status).toBe("observer-errors");
    expect(r.attempts).toBeGreaterThanOrEqual(MAX_CONSECUTIVE_OBSERVER_FAILURES);
    expect(r.attempts).toBeLessThan(MAX_CONSECUTIVE_OBSERVER_FAILURES + 4);
    expect(r.message).toBe(`observer fake failed on ${r.attempts} images in a row; the last: ${DOWN}`);
  });

  it("counts an observer that throws as failed", async () => {
    const throwing: Observer = { id: "thrower", observe: () => Promise.reject(new Error("model file missing")) };
    const r = await runLoop(loopFor(throwing).input);
    expect(r.status).toBe("observer-errors");
    expect(r.message).toBe(`observer thrower failed on ${MAX_CONSECUTIVE_OBSERVER_FAILURES} images in a row; the last: observer failed: model file missing`);
  });

  it("stops too after K honest but unlabelled answers in a row (the observer sees nothing of what this provider gives it)", async () => {
    const honest = scripted(() => ({ persons: [], note: "no self-report and no revised prompt" }));
    const { input, sink } = loopFor(honest, { maxAttempts: 60 });
    const r = await runLoop(input);
    expect(r.status).toBe("observer-errors");
    expect(r.attempts).toBe(MAX_CONSECUTIVE_UNLABELLED);
    const message = `observer fake labelled none of the last ${MAX_CONSECUTIVE_UNLABELLED} images (a controlled attribute unknown in each: it may see nothing this provider gives it); the last: no self-report and no revised prompt`;
    expect(r.message).toBe(message);
    expect(sink.events.at(-1)).toMatchObject({ type: "end", reason: "observer-errors", message });
  });

  it("a labelled image breaks both streaks; unlabelled images short of K do not stop the run", async () => {
    // 8 failures, 1 honest empty answer, 1 labelled image, over and over: never 10 of either in a row.
    const flaky = scripted((k) => (k % 10 === 9 ? { persons: [{ labels: { gender: k % 20 === 9 ? "female" : "male" } }] } : k % 10 === 8 ? { persons: [], note: "no person seen" } : down()));
    const { input } = loopFor(flaky, { maxAttempts: 40, n: 20 });
    const r = await runLoop(input);
    expect(r.status).toBe("budget");
    expect(r.attempts).toBe(40);
  });

  it("stays resumable: after the observer is fixed the run goes on and completes", async () => {
    const first = loopFor(scripted(down));
    expect((await runLoop(first.input)).status).toBe("observer-errors");
    const second = loopFor(getObserver("self-report"));
    const r = await runLoop({ ...second.input, history: first.sink.events });
    expect(r.status).toBe("complete");
    expect(r.kept).toBe(4);
    expect(r.attempts).toBeGreaterThan(MAX_CONSECUTIVE_OBSERVER_FAILURES);
    expect(second.sink.events.at(-1)).toMatchObject({ type: "end", reason: "complete" });
    // Attempt indices continue after the stopped run's.
    expect(attempts(second.sink.events)[0]!.i).toBe(MAX_CONSECUTIVE_OBSERVER_FAILURES);
  });
});

describe("a run driven by vlm with nothing listening (CLI)", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  /** A chat server that labels the images female, male, female, ... */
  function chatServer(port: number): Promise<Server> {
    let k = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const gender = k++ % 2 === 0 ? "Female" : "Male";
        const content = JSON.stringify({ people: [{ gender }] });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ message: { role: "assistant", content }, finish_reason: "stop" }] }));
      });
    });
    servers.push(server);
    return new Promise((r) => server.listen(port, "127.0.0.1", () => r(server)));
  }

  it("stops with exit 1 after the threshold, not the budget, and resumes once the server is up", async () => {
    // A port that was free a moment ago: nothing listens on it.
    const probe = await chatServer(0);
    const port = (probe.address() as AddressInfo).port;
    servers.splice(servers.indexOf(probe), 1);
    await new Promise<void>((r) => probe.close(() => r()));

    const dir = tempDir();
    const cfg = join(dir, "run.yaml");
    writeFileSync(
      cfg,
      [
        "prompt: a photo of a nurse",
        "attributes: [gender]",
        "n: 4",
        "seed: 2",
        "observer: vlm",
        `observerOptions: { vlm: { model: llava, baseUrl: "http://127.0.0.1:${port}/v1", retries: 0 } }`,
        `out: ${join(dir, "runs")}`,
        "",
      ].join("\n"),
    );
    const stopped = await cli("run", "--config", cfg, "--json", "--no-progress");
    expect(stopped.code).toBe(1);
    const summary = JSON.parse(stopped.stdout) as { status: string; message: string; attempts: number; runDir: string };
    expect(summary.status).toBe("observer-errors");
    // Four requests at a time (the default): the three in flight at the threshold finish too.
    expect(summary.attempts).toBeGreaterThanOrEqual(MAX_CONSECUTIVE_OBSERVER_FAILURES);
    expect(summary.attempts).toBeLessThan(MAX_CONSECUTIVE_OBSERVER_FAILURES + 4);
    expect(summary.message).toMatch(new RegExp(`^observer vlm failed on ${summary.attempts} images in a row; the last: vlm error: .*ECONNREFUSED`));
    const lines = readFileSync(join(summary.runDir, "events.jsonl"), "utf8").trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: "end", reason: "observer-errors" });

    await chatServer(port);
    const resumed = await cli("resume", summary.runDir, "--json", "--no-progress");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "complete", kept: 4 });
  });
});
