import { BUILTIN_PROMPT_SETS, loadPromptSet } from "../experiments/prompt-sets.js";
import type { ApiPromptSet } from "./api-types.js";

let cached: ApiPromptSet[] | undefined;

/** The built-in prompt sets (news headlines, occupations) offered by the new-run form. */
export function builtinPromptSets(): ApiPromptSet[] {
  cached ??= BUILTIN_PROMPT_SETS.map((id) => {
    const set = loadPromptSet(id, ".", "prompt sets");
    return { id: set.id, description: set.description, prompts: set.prompts.map((p) => p.text) };
  });
  return cached;
}
