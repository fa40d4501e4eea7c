/**
 * Intervention prompt templates. Every image prompt the tool sends is one of these, filled in.
 * Edit them in the config file under `templates:`; each must keep its placeholders:
 *
 * - `{prompt}`     the user's prompt, unchanged
 * - `{person}`     a person described from the requested categories: "a Black woman in their twenties"
 * - `{options}`    several such descriptions joined by "; " (choice mode)
 * - `{attributes}` the controlled attributes in words: "gender and race" (ethical intervention)
 * - `{words}`      the requested categories' labels: "Black female" (random prepending)
 */
export interface Templates {
  /** Policy `none`. */
  plain: string;
  /** Policy `eip`: an ethical intervention phrase, after Bansal et al. 2022 ("...irrespective of their gender"). */
  eip: string;
  /** Policies `quota` and `debiaspi` in `direct` mode: ask for one person. */
  direct: string;
  /** Policy `debiaspi` in `choice` mode: let the model pick among open cells. */
  choice: string;
  /** Policy `random`: categories drawn from the target prepended, as DALL-E 2's 2022 mitigation did. */
  random: string;
}

export const DEFAULT_TEMPLATES: Templates = {
  plain: "{prompt}",
  eip: "{prompt}, irrespective of their {attributes}",
  direct: "{prompt}, depicting {person}",
  choice: "{prompt}, depicting one of the following: {options}",
  random: "{words} {prompt}",
};

/** Placeholders each template must contain. */
export const REQUIRED_PLACEHOLDERS: Record<keyof Templates, string[]> = {
  plain: ["{prompt}"],
  eip: ["{prompt}", "{attributes}"],
  direct: ["{prompt}", "{person}"],
  choice: ["{prompt}", "{options}"],
  random: ["{prompt}", "{words}"],
};
