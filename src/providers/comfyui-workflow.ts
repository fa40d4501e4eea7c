import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../core/errors.js";
import { jsonErrorPlace } from "../core/json-error.js";

/**
 * ComfyUI's workflow format as the `comfyui` provider uses it: an API-format workflow with placeholders, how it
 * is checked and filled, and how ComfyUI's answers about it (node errors, history entries) read.
 */

export const PLACEHOLDERS = { prompt: "{{prompt}}", negative: "{{negative_prompt}}", seed: "{{seed}}" } as const;
export type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown>; [k: string]: unknown }>;

/** Reads and checks an API-format workflow; InputError naming the file and what is wrong. */
export function loadWorkflow(path: string, cwd = process.cwd()): Workflow {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`provider comfyui: cannot read the workflow file "${path}" (${err.code ?? err.message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // The parser's message quotes the file's text; name only where it broke (the file may be anything).
    throw new InputError(`provider comfyui: the workflow file "${path}" is not JSON (${jsonErrorPlace(text, e as Error)}); export the workflow with "Save (API Format)"`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new InputError(`provider comfyui: the workflow file "${path}" must hold a JSON object of nodes`);
  const obj = json as Record<string, unknown>;
  if (Array.isArray(obj.nodes) && Array.isArray(obj.links)) {
    throw new InputError(`provider comfyui: the workflow file "${path}" is in ComfyUI's UI format; save it with "Save (API Format)" / "Export (API)" instead`);
  }
  for (const [id, node] of Object.entries(obj)) {
    const n = node as { class_type?: unknown; inputs?: unknown } | null;
    if (!n || typeof n !== "object" || typeof n.class_type !== "string" || !n.inputs || typeof n.inputs !== "object") {
      const name = /^\d{1,9}(?::\d{1,9})*$/.test(id) ? `node "${id}"` : "an entry whose key is not a node id";
      throw new InputError(`provider comfyui: the workflow file "${path}" is not in API format: ${name} has no class_type and inputs`);
    }
  }
  const missing = [PLACEHOLDERS.prompt, PLACEHOLDERS.seed].filter((p) => !text.includes(p));
  if (missing.length > 0) {
    throw new InputError(
      `provider comfyui: the workflow file "${path}" lacks the placeholder${missing.length > 1 ? "s" : ""} ${missing.join(" and ")}; put "${PLACEHOLDERS.prompt}" as the positive prompt text and "${PLACEHOLDERS.seed}" as the sampler's seed`,
    );
  }
  return obj as Workflow;
}

/** The workflow with the placeholders filled (on the parsed tree, so no JSON escaping issue). */
export function fillWorkflow(wf: Workflow, prompt: string, negative: string, seed: number): Workflow {
  // Replace in one pass per string, so a prompt that itself contains "{{seed}}" stays as it is.
  const once = (s: string): string => s.replace(/\{\{(prompt|negative_prompt|seed)\}\}/g, (_m, k: string) => (k === "prompt" ? prompt : k === "negative_prompt" ? negative : String(seed)));
  const walkOnce = (v: unknown): unknown => {
    if (typeof v === "string") return v === PLACEHOLDERS.seed ? seed : v.includes("{{") ? once(v) : v;
    if (Array.isArray(v)) return v.map(walkOnce);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walkOnce(x)]));
    return v;
  };
  return walkOnce(wf) as Workflow;
}

interface ComfyError {
  type?: string;
  message?: string;
  details?: string;
  extra_info?: { input_name?: string };
}
export interface NodeErrors {
  [node: string]: { errors?: ComfyError[]; class_type?: string; dependent_outputs?: unknown[] };
}

const oneError = (e: ComfyError | undefined): string => {
  if (!e) return "";
  const msg = e.message ?? e.type ?? "error";
  return e.details && e.details !== msg ? `${msg}: ${e.details}` : msg;
};

/** `{"error": {...}, "node_errors": {...}}` from POST /prompt as one readable line per node. */
export function describeNodeErrors(body: unknown, wf?: Workflow): string {
  const b = (body && typeof body === "object" ? body : {}) as { error?: ComfyError | string; node_errors?: NodeErrors };
  const parts: string[] = [];
  const top = typeof b.error === "string" ? b.error : oneError(b.error);
  if (top) parts.push(top);
  for (const [id, ne] of Object.entries(b.node_errors ?? {})) {
    const cls = ne.class_type ?? wf?.[id]?.class_type ?? "?";
    const errs = (ne.errors ?? []).map(oneError).filter((s) => s !== "");
    parts.push(`node ${id} (${cls}): ${errs.length > 0 ? errs.join("; ") : "invalid"}`);
  }
  return parts.length > 0 ? parts.join("; ") : JSON.stringify(body).slice(0, 300);
}

export interface HistoryImage {
  filename: string;
  subfolder?: string;
  type?: string;
}
export interface HistoryEntry {
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
  outputs?: Record<string, { images?: HistoryImage[] }>;
}

/** The messages of a failed execution (`execution_error`, `execution_interrupted`) as one line. */
export function describeExecutionError(entry: HistoryEntry): string {
  const out: string[] = [];
  for (const m of entry.status?.messages ?? []) {
    if (!Array.isArray(m)) continue;
    const [kind, data] = m;
    if (kind === "execution_error" && data) {
      const node = data.node_id !== undefined ? `node ${String(data.node_id)} (${String(data.node_type ?? "?")}): ` : "";
      out.push(`${node}${String(data.exception_type ?? "error")}: ${String(data.exception_message ?? "").trim()}`);
    } else if (kind === "execution_interrupted") {
      out.push(`interrupted${data?.node_id !== undefined ? ` at node ${String(data.node_id)} (${String(data.node_type ?? "?")})` : ""}`);
    }
  }
  return out.length > 0 ? out.join("; ") : "the execution failed (no message)";
}

/** The first output image, preferring saved images (`type: "output"`) over previews, nodes in id order. */
export function pickImage(entry: HistoryEntry): { node: string; image: HistoryImage; count: number } | undefined {
  const all: { node: string; image: HistoryImage }[] = [];
  const ids = Object.keys(entry.outputs ?? {}).sort((a, b) => (Number(a) - Number(b)) || a.localeCompare(b));
  for (const node of ids) {
    for (const image of entry.outputs?.[node]?.images ?? []) if (image && typeof image.filename === "string") all.push({ node, image });
  }
  const saved = all.filter((x) => (x.image.type ?? "output") === "output");
  const first = saved[0] ?? all[0];
  return first ? { ...first, count: saved.length > 0 ? saved.length : all.length } : undefined;
}
