import { describe, expect, it } from "vitest";
import { serve } from "../../src/cli/serve.js";
import { startDashboard } from "../../src/server/server.js";
import { cli } from "../cli/helpers.js";
import { tempDir } from "./helpers.js";

describe("debiaspi serve", () => {
  it("prints the address with the token, warns when it listens beyond this machine, and stops cleanly", async () => {
    const out: string[] = [];
    const err: string[] = [];
    let status = 0;
    await serve({ port: 0, host: "0.0.0.0", runs: tempDir(), experiments: tempDir() }, { out: (t) => out.push(t), err: (t) => err.push(t) }, async (d) => {
      status = (await fetch(`${d.origin}/api/runs`, { headers: { Authorization: `Bearer ${d.token}` } })).status;
    });
    expect(status).toBe(200);
    expect(out[0]).toMatch(/^debiaspi dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    expect(err.join("\n")).toMatch(/warning: listening on 0\.0\.0\.0/);

    const quiet: string[] = [];
    await serve({ port: 0, runs: tempDir(), experiments: tempDir() }, { out: () => undefined, err: (t) => quiet.push(t) }, async () => undefined);
    expect(quiet.join("\n")).not.toMatch(/warning/);
  });

  it("refuses a bad port or one in use with one line and exit code 2", async () => {
    const bad = await cli("serve", "--port", "http");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port must be a whole number/);
    const big = await cli("serve", "--port", "70000");
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/between 0 and 65535/);
    const taken = await startDashboard({ runsDir: tempDir(), experimentsDir: tempDir(), port: 0 });
    try {
      const busy = await cli("serve", "--port", String(taken.port), "--runs", tempDir());
      expect(busy.code).toBe(2);
      expect(busy.stderr).toMatch(new RegExp(`port ${taken.port} on 127\\.0\\.0\\.1 is in use`));
      expect(busy.stderr).not.toMatch(/at .*\.ts/);
    } finally {
      await taken.close();
    }
  });
});
