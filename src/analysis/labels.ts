import type { RunConfig } from "../config/resolve.js";
import type { Target } from "../core/target.js";

/**
 * A short name for a run's target, as the experiment config writes it: factors joined with ",",
 * a joint factor as "race+gender"; "(weighted)" when weights other than uniform were given.
 * Examples: "gender,race" (independent marginals), "race+gender" (joint), "skin_tone".
 */
export function targetLabel(config: Pick<RunConfig, "target" | "jointTarget">, target: Pick<Target, "factors">): string {
  const ids = target.factors.map((f) => f.id).join(",");
  const weighted = Object.keys(config.target ?? {}).length > 0 || Object.keys(config.jointTarget ?? {}).length > 0;
  return `${ids || "none"}${weighted ? " (weighted)" : ""}`;
}
