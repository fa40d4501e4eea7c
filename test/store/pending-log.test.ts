import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/api.js";
import type { AttemptEvent, PendingRecord } from "../../src/store/events.js";
import { PENDING_LOG, RunFolder } from "../../src/store/run-folder.js";
import { tempDir } from "../cli/helpers.js";

/** A valid run.json, from a real small run. */
let RUN: unknown;
beforeAll(async () => {
  const out = tempDir();
  await run({ prompt: "a photo of the face of a nurse", n: 2, attributes: ["gender"], seed: 1, sim: { render: false, latencyMs: 0 }, out }, { dir: join(out, "ref") });
  RUN = JSON.parse(readFileSync(join(out, "ref", "run.json"), "utf8"));
});

const record = (i: number, image: string): PendingRecord => ({
  type: "attempt",
  i,
  t: "2026-01-01T00:00:00.000Z",
  request: { kind: "plain" },
  prompt: "p",
  seed: i,
  outcome: "image",
  image,
  ms: 1,
});
const event = (rec: PendingRecord): AttemptEvent => ({ ...rec, decision: "kept", kept: rec.i + 1 });

/** A folder written the way the engine writes it, left as a kill leaves it (nothing closed). */
function folderWith(recorded: number, unrecorded: number): { dir: string; images: string[] } {
  const dir = join(tempDir(), "r");
  const f = RunFolder.create(dir, RUN);
  const images: string[] = [];
  for (let i = 0; i < recorded + unrecorded; i++) {
    const image = f.writeImage(new Uint8Array([i, 1, 2, 3]), "image/png");
    images.push(image);
    f.writePending(record(i, image));
    if (i < recorded) {
      f.append(event(record(i, image)));
      f.clearPending(i);
    }
  }
  // Killed: nothing closed; the lock is let go so that this process may take it again.
  f.unlock();
  return { dir, images };
}

describe("pending records in one log", () => {
  it("are one line per attempt in pending/attempts.jsonl, not a file each, and the log goes when every line is superseded", () => {
    const dir = join(tempDir(), "r");
    const f = RunFolder.create(dir, RUN);
    for (let i = 0; i < 3; i++) {
      const rec = record(i, f.writeImage(new Uint8Array([i]), "image/png"));
      f.writePending(rec);
      expect(readdirSync(join(dir, "pending"))).toEqual([PENDING_LOG]);
      f.append(event(rec));
      f.clearPending(i);
    }
    expect(readFileSync(join(dir, "pending", PENDING_LOG), "utf8").trim().split("\n")).toHaveLength(3);
    f.close();
    expect(readdirSync(join(dir, "pending"))).toEqual([]);
    f.unlock();
  });

  it("after a kill, only the attempts without an event line are recovered, a torn last line is dropped, and the log stays until they are recorded", () => {
    const { dir, images } = folderWith(2, 2);
    // A kill in the middle of the next record's write leaves half a line.
    appendFileSync(join(dir, "pending", PENDING_LOG), '{"type":"attempt","i":4,"t":"20');
    const f = RunFolder.at(dir);
    f.lock();
    const loaded = f.read(true);
    expect(loaded.events.map((e) => (e.type === "attempt" ? e.i : -1))).toEqual([0, 1]);
    // Every complete record is returned (the engine skips those already recorded); the torn one is not.
    expect(loaded.pending.map((p) => p.i)).toEqual([0, 1, 2, 3]);
    expect(loaded.pending.map((p) => p.image)).toEqual(images);
    // Closing with attempts 2 and 3 still unrecorded keeps the log.
    f.close();
    expect(existsSync(join(dir, "pending", PENDING_LOG))).toBe(true);
    // A new record after the torn line is a line of its own.
    f.writePending(record(5, images[0]!));
    const again = RunFolder.load(dir);
    expect(again.pending.map((p) => p.i)).toEqual([0, 1, 2, 3, 5]);
    for (const i of [2, 3, 5]) {
      f.append(event(record(i, images[0]!)));
      f.clearPending(i);
    }
    f.close();
    expect(readdirSync(join(dir, "pending"))).toEqual([]);
    f.unlock();
  });

  it("a record in a file of its own (older versions) is still recovered and removed once recorded", () => {
    const { dir, images } = folderWith(1, 0);
    const old = record(7, images[0]!);
    writeFileSync(join(dir, "pending", "00000007.json"), JSON.stringify(old));
    const f = RunFolder.at(dir);
    f.lock();
    expect(f.read(true).pending.map((p) => p.i)).toEqual([0, 7]);
    f.append(event(old));
    f.clearPending(7);
    f.close();
    expect(readdirSync(join(dir, "pending"))).toEqual([]);
    f.unlock();
  });

  it("reading without the lock changes nothing", () => {
    const { dir } = folderWith(1, 1);
    const before = readFileSync(join(dir, "pending", PENDING_LOG), "utf8");
    const f = RunFolder.at(dir);
    expect(f.read(false).pending.map((p) => p.i)).toEqual([0, 1]);
    f.close();
    expect(readFileSync(join(dir, "pending", PENDING_LOG), "utf8")).toBe(before);
  });
});
