import type { Policy, PolicyEntry } from "./types.js";

/** `none`: the prompt unchanged; the baseline without any control. */
export const nonePolicy = (): Policy => ({
  id: "none",
  closedLoop: false,
  next: () => ({ kind: "plain" }),
});

export const noneEntry: PolicyEntry = { create: () => nonePolicy() };
