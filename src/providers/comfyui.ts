import { createHash, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { InputError } from "../core/errors.js";
import { imageMime } from "../core/image-mime.js";
import { parseOptions } from "../core/options.js";
import { readErrorBody, readJson } from "../http/body.js";
import { fetchWithRetry, type HttpContext, type HttpOverrides } from "../http/fetch.js";
import { baseLabel, cleanBase, joinUrl, parseBaseUrl } from "../http/url.js";
import { HttpProvider } from "./base.js";
import { describeExecutionError, describeNodeErrors, fillWorkflow, loadWorkflow, pickImage, type HistoryEntry, type NodeErrors, type Workflow } from "./comfyui-workflow.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * ComfyUI: a workflow saved in "API format" (Settings -> enable dev mode options, then
 * "Save (API Format)"; newer versions: Workflow -> Export (API)), with placeholder strings:
 * `{{prompt}}` (required), `{{seed}}` (required; as the whole value of a numeric input, e.g.
 * `"seed": "{{seed}}"`, it becomes a number) and `{{negative_prompt}}` (optional; filled from the
 * `negative_prompt` option). A generation queues the filled workflow (`POST /prompt`), polls
 * `GET /history/{id}` until it is done (no WebSocket) and downloads the first output image
 * (`GET /view`). No content refusal and no self-report, as with A1111.
 */

const OptionsSchema = z.strictObject({
  /** Path of the API-format workflow JSON (relative to the current directory). */
  workflow: z.string().min(1),
  /** What `{{negative_prompt}}` becomes. */
  negative_prompt: z.string().default(""),
  /** Time limit of one whole generation (queue wait included), ms. */
  timeoutMs: z.number().int().positive().default(600_000),
  /** Wait between two looks at /history, ms. */
  pollMs: z.number().int().positive().default(1_000),
  /** Retries of each HTTP request (5xx, 429, dropped connections). */
  retries: z.number().int().min(0).max(20).default(2),
});

export type ComfyOptions = z.output<typeof OptionsSchema>;
export const COMFY_OPTION_KEYS = Object.keys(OptionsSchema.shape);


export class ComfyUIProvider extends HttpProvider implements ImageProvider {
  readonly id: string;
  private readonly base: URL;
  /** First 12 hex digits of the workflow's sha256, in meta (a changed workflow is a different model). */
  readonly workflowHash: string;
  get cacheKey(): Record<string, unknown> {
    return { workflow: this.workflowHash };
  }
  private readonly clientId = randomUUID();

  constructor(
    base: URL,
    readonly options: ComfyOptions,
    private readonly workflow: Workflow,
    http: HttpOverrides = {},
  ) {
    // One HTTP request waits at most a minute; the whole generation has `timeoutMs`.
    super([], { timeoutMs: Math.min(60_000, options.timeoutMs), retries: options.retries }, http);
    this.base = cleanBase(base);
    this.id = `comfyui:${baseLabel(this.base)}`;
    this.workflowHash = createHash("sha256").update(JSON.stringify(workflow)).digest("hex").slice(0, 12);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    let promptId: string | undefined;
    try {
      return await this.run(req, signal, (id) => (promptId = id));
    } catch (e) {
      if (req.signal?.aborted || deadline.aborted) void this.dequeue(promptId);
      if (req.signal?.aborted) throw req.signal.reason ?? e;
      if (deadline.aborted) {
        this.fail(`no finished image within ${this.options.timeoutMs} ms${promptId ? ` (prompt ${promptId}; raise providerOptions.timeoutMs if the queue is long)` : ""}`, undefined, true);
      }
      throw e;
    }
  }

  /** Best effort: takes a prompt we gave up on out of the queue (it does not interrupt a running one). */
  private async dequeue(promptId: string | undefined): Promise<void> {
    if (!promptId) return;
    try {
      await fetch(joinUrl(this.base, "/queue"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ delete: [promptId] }), signal: AbortSignal.timeout(5_000) });
    } catch {
      // ignored
    }
  }

  private async run(req: GenerateRequest, signal: AbortSignal, started: (id: string) => void): Promise<GenerateResult> {
    const ctx = this.ctx(signal);
    const filled = fillWorkflow(this.workflow, req.prompt, this.options.negative_prompt, req.seed);
    const res = await fetchWithRetry(this.id, joinUrl(this.base, "/prompt"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: filled, client_id: this.clientId }) }, ctx);
    if (!res.ok) {
      const body = await readErrorBody(res);
      if (body.json === undefined) this.fail(`HTTP ${res.status} on /prompt: ${body.text.trim().slice(0, 300) || res.statusText}`, res.status);
      this.fail(`the workflow was rejected (HTTP ${res.status}): ${describeNodeErrors(body.json, this.workflow)}`, res.status);
    }
    const queued = (await readJson(this.id, res, [])) as { prompt_id?: unknown; node_errors?: NodeErrors } | null;
    if (!queued || typeof queued.prompt_id !== "string") this.fail(`unexpected answer from /prompt (no prompt_id): ${JSON.stringify(queued).slice(0, 200)}`, res.status);
    const promptId = queued.prompt_id;
    started(promptId);
    const warnings: string[] = [];
    if (queued.node_errors && Object.keys(queued.node_errors).length > 0) warnings.push(`${this.id}: some outputs were dropped: ${describeNodeErrors({ node_errors: queued.node_errors }, this.workflow)}`);

    const entry = await this.waitFor(promptId, ctx, signal);
    const picked = pickImage(entry);
    if (!picked) this.fail(`prompt ${promptId} finished without an output image (does the workflow end in a SaveImage node?)`);
    if (picked.count > 1) warnings.push(`${this.id}: the workflow made ${picked.count} images; only the first (node ${picked.node}) is used`);

    const q = new URLSearchParams({ filename: picked.image.filename, subfolder: picked.image.subfolder ?? "", type: picked.image.type ?? "output" });
    const view = await fetchWithRetry(this.id, `${joinUrl(this.base, "/view")}?${q.toString()}`, { method: "GET" }, ctx);
    if (!view.ok) this.fail(`HTTP ${view.status} on /view of ${picked.image.filename}`, view.status);
    const image = new Uint8Array(await view.arrayBuffer());
    const declared = view.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    const mime = declared?.startsWith("image/") ? declared : imageMime(image);
    if (image.length === 0 || !mime) this.fail(`/view of ${picked.image.filename} returned no image (${image.length} bytes, ${declared ?? "no content-type"})`, view.status);
    return { image, mime, costUsd: 0, warnings, meta: { promptId, node: picked.node, filename: picked.image.filename, workflow: this.workflowHash } };
  }

  /** Polls /history/{id} until the prompt is done; ProviderError on an execution error. */
  private async waitFor(promptId: string, ctx: HttpContext, signal: AbortSignal): Promise<HistoryEntry> {
    for (;;) {
      const res = await fetchWithRetry(this.id, joinUrl(this.base, `/history/${encodeURIComponent(promptId)}`), { method: "GET" }, ctx);
      if (!res.ok) this.fail(`HTTP ${res.status} on /history/${promptId}`, res.status);
      const hist = (await readJson(this.id, res, [])) as Record<string, HistoryEntry> | null;
      const entry = hist && typeof hist === "object" ? hist[promptId] : undefined;
      if (entry) {
        if (entry.status?.status_str === "error") this.fail(`prompt ${promptId} failed: ${describeExecutionError(entry)}`);
        // Older ComfyUI versions have no `status`: an entry with outputs is a finished one.
        if (entry.status?.completed === true || (!entry.status && entry.outputs)) return entry;
      }
      await (ctx.sleep ? ctx.sleep(this.options.pollMs, signal) : delay(this.options.pollMs, undefined, { signal }));
    }
  }

  /** GET /system_stats (no generation): the version and the device. */
  async check(): Promise<string> {
    const res = await fetchWithRetry(this.id, joinUrl(this.base, "/system_stats"), { method: "GET" }, this.ctx(AbortSignal.timeout(15_000), { retries: 0 }));
    if (!res.ok) this.fail(`HTTP ${res.status} on /system_stats (is this a ComfyUI server?)`, res.status);
    const s = (await readJson(this.id, res, [])) as { system?: { comfyui_version?: unknown }; devices?: { name?: unknown }[] } | null;
    const version = typeof s?.system?.comfyui_version === "string" ? `ComfyUI ${s.system.comfyui_version}` : "ComfyUI";
    const device = typeof s?.devices?.[0]?.name === "string" ? ` on ${s.devices[0].name}` : "";
    return `${baseLabel(this.base)}: ${version}${device}, workflow ${this.workflowHash}`;
  }
}

export function createComfyUI(model: string | undefined, ctx: Pick<ProviderContext, "options">, http: HttpOverrides = {}): ComfyUIProvider {
  if (!model) throw new InputError("provider comfyui needs the server's URL: --provider comfyui:http://127.0.0.1:8188");
  const base = parseBaseUrl(model, "comfyui");
  if (!ctx.options || ctx.options.workflow === undefined) {
    throw new InputError('provider comfyui needs providerOptions.workflow: the path of a workflow saved in API format with "{{prompt}}" and "{{seed}}" placeholders (-P workflow=path/to/workflow_api.json)');
  }
  const options = parseOptions(OptionsSchema, ctx.options, "comfyui");
  const workflow = loadWorkflow(options.workflow);
  return new ComfyUIProvider(base, options, workflow, http);
}

export const comfyuiProvider: ProviderEntry = {
  description: "a ComfyUI server running your API-format workflow with {{prompt}} and {{seed}} placeholders (local, free; no self-report)",
  env: [],
  usage: `--provider comfyui:http://127.0.0.1:8188 -P workflow=workflow_api.json (options: ${COMFY_OPTION_KEYS.join(", ")})`,
  options: OptionsSchema,
  // Images only: nothing about the people drawn.
  reportsPeople: () => false,
  create: (model, ctx) => createComfyUI(model, ctx),
  check: (model, ctx) => createComfyUI(model, ctx).check(),
};
