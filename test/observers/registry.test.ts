import { describe, expect, it } from "vitest";
import { observerEntries, observerEntry } from "../../src/observers/index.js";
import { providerEntries } from "../../src/providers/index.js";

describe("uniform registries", () => {
  it("each observer entry declares what it sees exactly as the observer it builds", () => {
    for (const [id, entry] of observerEntries()) {
      if (id === "simulated") continue; // needs a calibration file
      const built = entry.create({ env: {}, options: id === "vlm" ? { baseUrl: "http://127.0.0.1:1/v1" } : {} });
      expect(built.id, id).toBe(id);
      expect(built.sees, id).toEqual(entry.sees);
    }
    expect(observerEntry("faces")!.sees).toEqual(["gender", "age", "skin_tone"]);
    expect(observerEntry("requested")!.sees).toBeUndefined();
  });

  it("an entry's options schema is the one its create() checks: an unknown key is refused by both", () => {
    for (const [id, entry] of observerEntries()) {
      if (!entry.options) continue;
      expect(entry.options.safeParse({ nosuch: 1 }).success, id).toBe(false);
      expect(() => entry.create({ env: {}, options: { nosuch: 1 } }), id).toThrow(new RegExp(`observer ${id}: unknown observerOptions.${id} "nosuch"; accepted: `));
    }
    const withOptions = providerEntries().filter(([, e]) => e.options);
    expect(withOptions.map(([id]) => id).sort()).toEqual(["a1111", "chat", "comfyui", "huggingface", "openai", "replicate", "stability"]);
    for (const [id, entry] of withOptions) {
      expect(entry.options!.safeParse({ nosuch: 1 }).success, id).toBe(false);
      for (const key of Object.keys(entry.options!.shape)) expect(entry.usage.includes(key) || id === "sim", `${id} usage names ${key}`).toBe(true);
    }
  });
});
