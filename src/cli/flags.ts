import { InputError } from "../core/errors.js";
import type { RunConfigInput } from "../config/schema.js";
import { flagAttribute, longFlag, settingFlags } from "../config/settings.js";
import { POLICY_IDS, type PolicyId } from "../policies/types.js";

/** Flag name for a config path, so errors about flags name the flag the user typed (from the settings table). */
export const FLAG_NAMES: Record<string, string> = {
  prompt: "PROMPT",
  ...Object.fromEntries(settingFlags().flatMap(({ flag }) => (flag.path !== undefined ? [[flag.path, longFlag(flag.flags)]] : []))),
};
export const flagName = (path: string): string => FLAG_NAMES[path] ?? (path.startsWith("target") ? "--target" : path.startsWith("joint") ? "--joint" : path);

export const list = (value: string): string[] =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** A comma-separated list flag that must name at least one item (`--attributes ""` is a mistake, not "none"). */
export function nonEmptyList(flag: string): (value: string) => string[] {
  return (value: string) => {
    const items = list(value);
    if (items.length === 0) throw new InputError(`${flag}: the list is empty; name at least one, comma-separated`);
    return items;
  };
}

/** A decimal number as people write weights: 2, 0.5, .5, 1e3; not hex, not Infinity, not "1kg". */
const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A whole-number flag; with `range`, also within its bounds ("--jobs: must be at most 64", as the config's bounds read). */
export function wholeNumber(flag: string, range?: { min: number; max: number }): (value: string) => number {
  return (value: string) => {
    const v = value.trim();
    if (!/^-?\d+$/.test(v)) throw new InputError(`${flag} must be a whole number, got "${value}"`);
    const x = Number(v);
    if (range && x < range.min) throw new InputError(`${flag}: must be at least ${range.min}`);
    if (range && x > range.max) throw new InputError(`${flag}: must be at most ${range.max}`);
    return x;
  };
}

/** A number flag from 0 to `max`; `bounds` says which in the error ("a number >= 0"). */
function numberUpTo(flag: string, max: number, bounds: string): (value: string) => number {
  return (value: string) => {
    const x = Number(value);
    if (value.trim() === "" || !Number.isFinite(x) || x < 0 || x > max) throw new InputError(`${flag} must be a number ${bounds}, got "${value}"`);
    return x;
  };
}

export const nonNegativeNumber = (flag: string): ((value: string) => number) => numberUpTo(flag, Infinity, ">= 0");

/** A share or probability flag: a number from 0 to 1. */
export const unitNumber = (flag: string): ((value: string) => number) => numberUpTo(flag, 1, "from 0 to 1");

/** `--policies`: a comma-separated list of policy ids. */
export function policyList(value: string): PolicyId[] {
  const policies = list(value);
  if (policies.length === 0) throw new InputError(`--policies: the list is empty; accepted: ${POLICY_IDS.join(", ")}`);
  for (const p of policies) {
    if (!(POLICY_IDS as readonly string[]).includes(p)) throw new InputError(`--policies: unknown policy "${p}"; accepted: ${POLICY_IDS.join(", ")}`);
  }
  return policies as PolicyId[];
}

/**
 * Parses one `--target` value: `ATTR=uniform` or `ATTR=CAT:W,CAT:W,...` (weights are relative:
 * `female:1,male:1` and `female:50,male:50` mean the same). Categories left out get weight 0.
 */
export function parseTargetSpec(spec: string): { attribute: string; weights?: Record<string, number> } {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new InputError(`--target "${spec}": expected ATTRIBUTE=CATEGORY:WEIGHT,... (e.g. gender=female:1,male:1) or ATTRIBUTE=uniform`);
  const attribute = spec.slice(0, eq).trim();
  const rest = spec.slice(eq + 1).trim();
  if (rest === "") throw new InputError(`--target "${spec}": nothing after "="; give CATEGORY:WEIGHT,... (e.g. ${attribute || "gender"}=female:1,male:1) or ${attribute || "ATTRIBUTE"}=uniform`);
  if (rest.toLowerCase() === "uniform") return { attribute };
  const weights: Record<string, number> = {};
  for (const part of list(rest)) {
    const colon = part.lastIndexOf(":");
    if (colon <= 0) throw new InputError(`--target "${spec}": "${part}" should be CATEGORY:WEIGHT, e.g. female:1`);
    const cat = part.slice(0, colon).trim();
    const raw = part.slice(colon + 1).trim();
    const w = Number(raw);
    const negative = raw.startsWith("-") && DECIMAL.test(raw.slice(1));
    if ((!DECIMAL.test(raw) && !negative) || !Number.isFinite(w)) {
      throw new InputError(`--target "${spec}": weight "${raw}" of ${cat} is not a decimal number (e.g. 1, 0.5, 2e3)`);
    }
    if (w < 0) throw new InputError(`--target "${spec}": weight ${w} of ${cat} is negative; weights are numbers >= 0`);
    if (cat in weights) throw new InputError(`--target "${spec}": category ${cat} is given twice`);
    weights[cat] = w;
  }
  return { attribute, weights };
}

/** The values commander gives for the setting flags, by option name (`maxAttempts`, `render`: false with --no-render). */
export type RunFlags = Partial<Record<string, unknown>>;

/** `KEY=VALUE` provider options; VALUE is read as JSON when it parses (numbers, booleans), else as text. */
export function parseProviderOptions(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new InputError(`--provider-option "${item}": expected KEY=VALUE, e.g. steps=30`);
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain text
    }
    out[key] = value;
  }
  return out;
}

/** Sets `path` ("sim.latencyMs") in a config-shaped object. */
function setPath(cfg: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let at = cfg;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  at[keys.at(-1)!] = value;
}

/** The settings the flags give, in config-file shape (validated later, with flag names in errors). */
export function flagsToConfig(prompt: string | undefined, f: RunFlags): Record<string, unknown> {
  const cfg: Record<string, unknown> = {};
  if (prompt !== undefined) cfg.prompt = prompt;
  const attributes: string[] = [];
  for (const { key, flag } of settingFlags()) {
    const value = f[flagAttribute(flag.flags)];
    if (value === undefined) continue;
    switch (flag.kind) {
      case "negate":
        if (value === false) setPath(cfg, flag.path ?? key, false);
        break;
      case "switch":
        if (value === true) setPath(cfg, flag.path ?? key, true);
        break;
      case "list":
        if (key === "attributes") attributes.push(...(value as string[]));
        else if ((value as string[]).length > 0) setPath(cfg, flag.path ?? key, value);
        break;
      case "target": {
        const target: Record<string, Record<string, number>> = {};
        for (const spec of value as string[]) {
          const t = parseTargetSpec(spec);
          if (!attributes.includes(t.attribute)) attributes.push(t.attribute);
          if (t.weights) target[t.attribute] = t.weights;
        }
        if (Object.keys(target).length > 0) cfg.target = target;
        break;
      }
      // Joint attributes are joined with "+" (race+gender) as everywhere; "," is read too (it was the flag's first form).
      case "joint":
        if ((value as string[]).length > 0) cfg.joint = (value as string[]).map((j) => list(j.replace(/\+/g, ",")));
        break;
      case "keyValue":
        if ((value as string[]).length > 0) cfg.providerOptions = parseProviderOptions(value as string[]);
        break;
      default:
        setPath(cfg, flag.path ?? key, value);
    }
  }
  if (attributes.length > 0) cfg.attributes = attributes;
  return cfg satisfies RunConfigInput | Record<string, unknown>;
}
