/**
 * A tiny HTML template: every interpolated value is escaped unless it is already `SafeHtml`
 * (another template's output, or markup we produced ourselves such as a rendered chart).
 * Prompts, labels and reasons come from users and models, so escaping is the default, not a step to remember.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Marks markup as safe to insert unescaped. Only for markup this module family produced. */
export const raw = (markup: string): SafeHtml => new SafeHtml(markup);

export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join("");
  return escapeHtml(String(value));
}

/** Tagged template: html`<td>${text}</td>` escapes `text`; nested html`` and arrays of them are inserted as they are. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Joins pieces of markup. */
export const join = (parts: readonly SafeHtml[], separator = ""): SafeHtml => new SafeHtml(parts.map((p) => p.value).join(separator));

/** A stable id fragment for anchors and element ids. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "x";
}
