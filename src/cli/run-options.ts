import { Command, Option } from "commander";
import { defaultText, flagAttribute, longFlag, settingFlags, type FlagSpec, type Setting } from "../config/settings.js";
import { nonEmptyList, nonNegativeNumber, wholeNumber } from "./flags.js";

/*
 * The flags of `run`, `compare` and `plan`, derived from the settings table (config/settings.ts): each setting's
 * flag, its parser and its help text with the default the table gives. README's option table is generated from
 * the same rows (optionsTable).
 */

/** Options of the run commands that are not settings (declared here once: the commands and README's table). */
export const RUN_COMMAND_OPTIONS: readonly { flags: string; doc: string; negate?: true }[] = [
  { flags: "--config <file>", doc: "YAML or JSON file with the same settings; flags override it" },
  { flags: "--json", doc: "print one JSON object instead of tables" },
  { flags: "--no-progress", doc: "no progress bar (it is only drawn on a terminal anyway)", negate: true },
];

const repeat = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The parser of a flag kind (commander calls it with the flag's text). */
function parserOf(flag: FlagSpec): ((value: string, prev: string[] | undefined) => unknown) | undefined {
  const long = longFlag(flag.flags);
  switch (flag.kind) {
    case "whole":
      return wholeNumber(long);
    case "number":
      return nonNegativeNumber(long);
    case "list":
      return nonEmptyList(long);
    case "target":
    case "joint":
    case "keyValue":
      return repeat;
    default:
      return undefined;
  }
}

const REPEATS = new Set(["target", "joint", "keyValue"]);

/** A flag's help line: the doc, "(repeatable)" where it is, and the table's default. */
export function flagHelp(flag: FlagSpec, setting: Setting): string {
  const doc = flag.doc ?? setting.doc;
  const shown = flag.defaultText ?? defaultText(setting);
  const repeatable = REPEATS.has(flag.kind) && !/repeatable/.test(doc) ? " (repeatable)" : "";
  return flag.kind === "negate" || flag.kind === "switch" ? doc : `${doc}${repeatable} (default ${shown})`;
}

/** Adds every setting's flag, then --config, --json and --no-progress. */
export function addRunOptions(cmd: Command): Command {
  for (const { flag, setting } of settingFlags()) {
    const option = new Option(flag.flags, flagHelp(flag, setting));
    const parse = parserOf(flag);
    if (flag.choices) option.choices([...flag.choices]);
    else if (parse) option.argParser(parse as (value: string, previous: unknown) => unknown);
    cmd.addOption(option);
  }
  for (const o of RUN_COMMAND_OPTIONS) cmd.option(o.flags, o.doc);
  return cmd;
}

/** commander's option names of the setting flags, with their spec (flagsToConfig reads them). */
export const settingFlagAttributes = (): { attribute: string; flag: FlagSpec }[] => settingFlags().map(({ flag }) => ({ attribute: flagAttribute(flag.flags), flag }));

const cell = (text: string): string => text.replace(/\|/g, "\\|");

/** README's table of the run options, generated from the settings table (between the options markers). */
export function optionsTable(): string {
  const rows = ["| option | meaning | default |", "|---|---|---|"];
  for (const { flag, setting } of settingFlags()) {
    rows.push(`| \`${cell(flag.flags)}\` | ${cell(flag.doc ?? setting.doc)}${REPEATS.has(flag.kind) && !/repeatable/.test(flag.doc ?? setting.doc) ? " (repeatable)" : ""} | ${flag.kind === "negate" || flag.kind === "switch" ? cell(flag.defaultText ?? "") : cell(flag.defaultText ?? defaultText(setting))} |`);
  }
  for (const o of RUN_COMMAND_OPTIONS) rows.push(`| \`${cell(o.flags)}\` | ${cell(o.doc)} | |`);
  return rows.join("\n");
}

export const OPTIONS_START = "<!-- run options: generated from src/config/settings.ts; npm run readme:options -->";
export const OPTIONS_END = "<!-- end of run options -->";
