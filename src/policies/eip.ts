import type { Target } from "../core/target.js";
import type { Policy, PolicyEntry } from "./types.js";

/** `eip`: an ethical intervention phrase naming the controlled attributes (Bansal et al. 2022). */
export const eipPolicy = (target: Target): Policy => ({
  id: "eip",
  closedLoop: false,
  next: () => ({ kind: "eip", attributes: target.attributes }),
});

export const eipEntry: PolicyEntry = { create: (_options, target) => eipPolicy(target) };
