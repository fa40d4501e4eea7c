import { z } from "zod";
import { settingsShape } from "./settings.js";

/**
 * The run config: the same settings as the `run` flags, as a YAML (or JSON) file. Every key is
 * optional here; defaults fill in the rest. Each setting is declared once, in the settings table (settings.ts).
 */
export const runConfigSchema = z.object(settingsShape).partial().strict();

export type RunConfigInput = z.infer<typeof runConfigSchema>;
export type SimOverrides = z.infer<typeof settingsShape.sim>;
export type TemplateOverrides = z.infer<typeof settingsShape.templates>;

/** One line for a zod error: where, what was wrong, what is accepted. */
export function formatZodError(error: z.ZodError, source: string, nameOf: (path: string) => string = (p) => p): string {
  const issue = error.issues[0];
  if (!issue) return `${source}: invalid`;
  const path = issue.path.length > 0 ? nameOf(issue.path.map(String).join(".")) : "(top level)";
  let msg = issueMessage(issue);
  if (issue.code === "unrecognized_keys" && path === "(top level)") msg += `; accepted: ${Object.keys(runConfigSchema.shape).join(", ")}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  return `${source}: ${path}: ${msg}${more}`;
}

/** What was wrong in one zod issue, in the CLI's words ("must be at least 1"); the CLI and the dashboard both say it so. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  if (issue.code === "invalid_value" && "values" in issue) return `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  // zod's own wording; a message written in the schema is kept as it is
  if (/^(Too small|Too big|Invalid input)\b/.test(issue.message)) return boundMessage(issue) ?? issue.message;
  return issue.message;
}

/** zod's bound and whole-number issues in the CLI's words ("must be at least 1"), for every key alike. */
function boundMessage(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.expected === "int") return "must be a whole number";
  if (issue.code !== "too_small" && issue.code !== "too_big") return undefined;
  const small = issue.code === "too_small";
  const bound = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const exact = "exact" in issue && issue.exact === true;
  switch (issue.origin) {
    case "number":
    case "int":
    case "bigint":
      return `must be ${small ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than"} ${bound}`;
    case "string":
      if (exact) return `must have exactly ${bound} characters`;
      return small && bound === "1" ? "must not be empty" : `must have ${small ? "at least" : "at most"} ${bound} characters`;
    case "array":
    case "set":
      return `must have ${exact ? "exactly" : small ? "at least" : "at most"} ${bound} item${bound === "1" ? "" : "s"}`;
    default:
      return undefined;
  }
}
