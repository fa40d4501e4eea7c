import { readFileSync } from "node:fs";
import { basename, extname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError } from "../core/errors.js";
import { sdOccupationCounts } from "../providers/sim/fair-diffusion.js";
import { HEADLINES, HEADLINE_CONCEPTS } from "./headlines.js";

export interface SetPrompt {
  text: string;
  /** Position in the whole set (stable when a part takes only some of them). */
  index: number;
  /** The hard concept a built-in headline depicts, or the label given in a user's YAML file. */
  concept?: string;
}

export interface PromptSet {
  /** "headlines", "occupations", a user file's name without extension, or an inline set's id. */
  id: string;
  description: string;
  prompts: SetPrompt[];
}

export const BUILTIN_PROMPT_SETS = ["headlines", "occupations"] as const;

const FILE_EXTENSIONS = [".txt", ".yaml", ".yml", ".json"];

const article = (word: string): string => (/^[aeiou]/i.test(word) ? "an" : "a");

/** The prompt Fair Diffusion measured Stable Diffusion 1.5 with, for one occupation. */
const occupationPrompt = (occupation: string): string => `a photo of the face of ${article(occupation)} ${occupation}`;

function builtin(id: (typeof BUILTIN_PROMPT_SETS)[number]): PromptSet {
  if (id === "headlines") {
    return {
      id,
      description: `${HEADLINE_CONCEPTS.length * 6} news-headline prompts depicting people, six per hard concept (${HEADLINE_CONCEPTS.join(", ")})`,
      prompts: HEADLINE_CONCEPTS.flatMap((concept) => HEADLINES[concept].map((text) => ({ text, concept }))).map((p, index) => ({ ...p, index })),
    };
  }
  const rows = sdOccupationCounts();
  return {
    id,
    description: `the ${rows.length} occupations of the Fair Diffusion measurements of Stable Diffusion 1.5 ("a photo of the face of a {occupation}")`,
    prompts: rows.map((r, index) => ({ text: occupationPrompt(r.occupation), concept: r.occupation, index })),
  };
}

const yamlPrompt = z.union([z.string().trim().min(1), z.object({ prompt: z.string().trim().min(1), concept: z.string().optional() }).strict()]);
const yamlFile = z.union([
  z.array(yamlPrompt).min(1),
  z.object({ id: z.string().min(1).optional(), description: z.string().optional(), prompts: z.array(yamlPrompt).min(1) }).strict(),
]);

/**
 * A user's prompt file: `.txt` (one prompt per line; blank lines and lines starting with # are skipped)
 * or `.yaml`/`.yml`/`.json` (a list of prompts, or `{ id, description, prompts: [...] }`, where a prompt
 * is a string or `{ prompt, concept }`).
 */
function readPromptFile(path: string, where: string): PromptSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${where}: cannot read prompt file ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const id = basename(path, extname(path));
  if (extname(path).toLowerCase() === ".txt") {
    const prompts = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith("#"))
      .map((l, index) => ({ text: l, index }));
    if (prompts.length === 0) throw new InputError(`${where}: prompt file ${path} has no prompts (one per line; # starts a comment)`);
    return { id, description: `prompts from ${basename(path)}`, prompts };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError(`${where}: prompt file ${path} is not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = yamlFile.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      `${where}: prompt file ${path}${issue.path.length > 0 ? ` at ${issue.path.join(".")}` : ""}: expected a list of prompts (strings or { prompt, concept }) or { prompts: [...] }`,
    );
  }
  const data = parsed.data;
  const list = Array.isArray(data) ? data : data.prompts;
  const prompts = list.map((p, index) => (typeof p === "string" ? { text: p, index } : { text: p.prompt, index, ...(p.concept ? { concept: p.concept } : {}) }));
  return {
    id: (!Array.isArray(data) && data.id) || id,
    description: (!Array.isArray(data) && data.description) || `prompts from ${basename(path)}`,
    prompts,
  };
}

/**
 * A prompt set by name: a built-in set (`headlines`, `occupations`) or a file path (relative to
 * `baseDir`, usually the experiment config's folder). InputError naming the accepted values otherwise.
 */
export function loadPromptSet(name: string, baseDir: string, where: string): PromptSet {
  if ((BUILTIN_PROMPT_SETS as readonly string[]).includes(name)) return builtin(name as (typeof BUILTIN_PROMPT_SETS)[number]);
  const looksLikeFile = FILE_EXTENSIONS.includes(extname(name).toLowerCase()) || name.includes("/") || name.includes("\\");
  if (!looksLikeFile) {
    throw new InputError(`${where}: unknown prompt set "${name}"; accepted: ${BUILTIN_PROMPT_SETS.join(", ")}, or a prompt file (${FILE_EXTENSIONS.join(", ")})`);
  }
  return readPromptFile(isAbsolute(name) ? name : resolve(baseDir, name), where);
}

/** The first `limit` prompts, or `limit` prompts spread evenly over the set (`spread: true`). */
export function selectPrompts(set: PromptSet, limit: number | undefined, spread: boolean): PromptSet {
  if (limit === undefined || limit >= set.prompts.length) return set;
  if (!spread) return { ...set, prompts: set.prompts.slice(0, limit) };
  const step = set.prompts.length / limit;
  return { ...set, prompts: Array.from({ length: limit }, (_, i) => set.prompts[Math.floor(i * step)]!) };
}
