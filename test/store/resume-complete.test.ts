import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { resume, run } from "../../src/api.js";
import { InputError } from "../../src/core/errors.js";
import { tempDir } from "../cli/helpers.js";

/**
 * The dashboard checks "is this run complete?" before it takes the run's lock; a CLI process can finish the run in
 * between. `refuseComplete` repeats the check under the lock, so such a run is refused (409 on the dashboard), not
 * started again.
 */
describe("resume with refuseComplete", () => {
  it("refuses a finished run under the lock and leaves its log as it was", async () => {
    const out = tempDir();
    const dir = join(out, "run");
    await run({ prompt: "a photo of a pilot", attributes: ["gender"], n: 6, seed: 3, out }, { dir });
    const before = readFileSync(join(dir, "events.jsonl"), "utf8");
    const refused = resume(dir, { refuseComplete: true });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(resume(dir, { refuseComplete: true })).rejects.toThrow(`run "${basename(dir)}" is complete; there is nothing to resume`);
    expect(readFileSync(join(dir, "events.jsonl"), "utf8")).toBe(before);
    // Without the option (the CLI's resume) a complete run is still accepted, as before.
    const again = await resume(dir);
    expect(again.summary.status).toBe("complete");
  });
});
