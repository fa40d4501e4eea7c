import type { ApiAttribute, ApiOptions, FieldError } from "../../../src/server/api-types.js";
import { api, ApiFailure } from "../api.js";
import { apportion } from "../../../src/core/apportion.js";
import { add, debounce, h, replace } from "../dom.js";

interface TargetState {
  mode: "uniform" | "weights";
  /** Whole percents per category, summing to 100. */
  pct: number[];
}

/** Splits `total` into whole numbers proportional to `weights` (the engine's largest remainder); all-zero weights split evenly. */
const apportionPercent = (weights: number[], total: number): number[] =>
  weights.length === 0 ? [] : apportion(weights.some((w) => w > 0) ? weights : weights.map(() => 1), total);

/** Sets slider `i` to `value` and scales the others so that all still sum to 100. */
function rebalance(pct: number[], i: number, value: number): number[] {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  const rest = apportionPercent(pct.filter((_, j) => j !== i), 100 - v);
  const out: number[] = [];
  let k = 0;
  for (let j = 0; j < pct.length; j++) out.push(j === i ? v : rest[k++]!);
  return out;
}

const uniformPct = (n: number): number[] => apportionPercent(Array.from({ length: n }, () => 1), 100);

function field(name: string, label: string, control: HTMLElement | HTMLElement[], hint?: string): HTMLElement {
  const id = `f-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  const controls = Array.isArray(control) ? control : [control];
  const first = controls[0];
  if (first && (first instanceof HTMLInputElement || first instanceof HTMLSelectElement || first instanceof HTMLTextAreaElement)) first.id = id;
  return h(
    "div",
    { class: "field", "data-field": name },
    h("label", { for: id }, label),
    controls,
    hint ? h("div", { class: "hint" }, hint) : null,
    h("div", { class: "field-error", role: "alert", "aria-live": "polite" }),
  );
}

/** The new-run form: every setting of a run, checked by the server as it is typed, errors next to their field. */
export async function newRunPage(root: HTMLElement): Promise<() => void> {
  const options: ApiOptions = await api.options();
  const attrs = options.attributes;
  const attrById = new Map(attrs.map((a) => [a.id, a]));
  const targets = new Map<string, TargetState>();
  let jointMode: "uniform" | "weights" = "uniform";
  let jointWeights = new Map<string, number>();

  // ---- controls
  const prompt = h("textarea", { name: "prompt", rows: 2, placeholder: "a photo of the face of a CEO", required: true, "data-test": "prompt" });
  const n = h("input", { type: "number", name: "n", min: 1, max: options.limits.maxN, step: 1, value: String(options.defaults.n), inputmode: "numeric" });
  const attrBoxes = attrs.map((a) =>
    h("label", { class: "chip" }, h("input", { type: "checkbox", name: "attributes", value: a.id, checked: options.defaults.attributes.includes(a.id) }), a.label),
  );
  const professions = h("input", { type: "text", name: "professions", placeholder: "nurse, surgeon, janitor" });
  const professionsField = field("professions", "Professions (categories of the profession attribute)", professions, "comma-separated");
  const joint = h("input", { type: "checkbox", name: "joint" });
  const jointField = h("div", { class: "field", "data-field": "joint" }, h("label", { class: "check" }, joint, " Control the chosen attributes jointly (every combination is a bin, e.g. Black woman)"), h("div", { class: "field-error", role: "alert" }));
  const targetBox = h("div", { class: "targets" });
  const policy = h("select", { name: "policy" }, options.policies.map((p) => h("option", { value: p, selected: p === options.defaults.policy }, p)));
  const provider = h("select", { name: "provider" }, options.providers.map((p) => h("option", { value: p.id, selected: p.id === options.defaults.provider }, p.id)));
  const model = h("input", { type: "text", name: "model", placeholder: "model or URL" });
  const providerHint = h("div", { class: "hint" });
  // Provider settings as key = value rows (the CLI's -P key=value): a value that reads as JSON (30, true, {"a":1}) is sent as such, else as text.
  const optionRows = h("div", { class: "kv-rows", "data-test": "provider-options" });
  const addOption = (key = "", value = ""): void => {
    const k = h("input", { type: "text", name: "providerOptionKey", placeholder: "setting, e.g. workflow", value: key, "aria-label": "provider setting name", autocomplete: "off" });
    const v = h("input", { type: "text", name: "providerOptionValue", placeholder: "value, e.g. ./workflow_api.json", value, "aria-label": "provider setting value", autocomplete: "off" });
    const row = h("div", { class: "kv-row" }, k, h("span", { "aria-hidden": "true" }, "="), v);
    const remove = h("button", { type: "button", class: "btn small", "aria-label": "remove this setting" }, "×");
    remove.addEventListener("click", () => {
      row.remove();
      changed();
    });
    row.append(remove);
    optionRows.append(row);
  };
  const addOptionBtn = h("button", { type: "button", class: "btn small", "data-test": "add-provider-option" }, "Add a provider setting");
  addOptionBtn.addEventListener("click", () => {
    addOption();
    optionRows.querySelector<HTMLInputElement>(".kv-row:last-child input")?.focus();
  });
  const providerOptions = (): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {};
    for (const row of optionRows.querySelectorAll(".kv-row")) {
      const [k, v] = [...row.querySelectorAll("input")].map((i) => i.value);
      if (!k?.trim()) continue;
      let value: unknown = v ?? "";
      try {
        value = JSON.parse(v ?? "");
      } catch {
        // plain text
      }
      out[k.trim()] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const observer = h("select", { name: "observer" }, options.observers.map((o) => h("option", { value: o.id, selected: o.id === options.defaults.observer }, o.id)));
  const observerHint = h("div", { class: "hint" });
  const mode = h("select", { name: "mode" }, ["direct", "choice"].map((m) => h("option", { value: m, selected: m === options.defaults.mode }, m)));
  const overflow = h("select", { name: "overflow" }, ["discard", "keep"].map((m) => h("option", { value: m, selected: m === options.defaults.overflow }, m)));
  const order = h("select", { name: "order" }, ["deficit", "effort"].map((m) => h("option", { value: m }, m)));
  const concurrency = h("input", { type: "number", name: "concurrency", min: 1, max: 256, value: String(options.defaults.concurrency), inputmode: "numeric" });
  const seed = h("input", { type: "number", name: "seed", min: 0, placeholder: "random", inputmode: "numeric" });
  const maxAttempts = h("input", { type: "number", name: "maxAttempts", min: 1, placeholder: "10 × N", inputmode: "numeric" });
  const latency = h("input", { type: "number", name: "latency", min: 0, placeholder: "0", inputmode: "numeric" });
  const calibration = h("input", { type: "text", name: "calibration", placeholder: "none", spellcheck: "false" });
  const steer = h("select", { name: "steer" }, [h("option", { value: "corrected" }, "the corrected estimate"), h("option", { value: "raw" }, "the raw labels")]);
  const formError = h("div", { class: "form-error", role: "alert", "data-field": "form" });
  const submit = h("button", { type: "submit", class: "btn primary big", "data-test": "start" }, "Start run");
  const status = h("span", { class: "hint", "aria-live": "polite" });

  const checked = (): string[] => attrBoxes.map((l) => l.querySelector("input")!).filter((b) => b.checked).map((b) => b.value);
  /** A joint group, the attribute with the most categories first (it gives the grid its rows, so the grid fits a phone). */
  const jointGroup = (): string[] => [...checked()].sort((a, b) => (attrById.get(b)?.categories.length ?? 0) - (attrById.get(a)?.categories.length ?? 0));
  const isJoint = (): boolean => joint.checked && checked().length >= 2;

  // ---- prompt sets: take one prompt from a set, or run an experiment over a sample of the set
  let promptSetField: HTMLElement | null = null;
  const setSel = h("select", { name: "promptSet" }, h("option", { value: "" }, "— none: type your own prompt —"), options.promptSets.map((p) => h("option", { value: p.id }, `${p.id} (${p.prompts.length} prompts)`)));
  const promptSel = h("select", { name: "promptPick", "aria-label": "prompt of the set" }, h("option", { value: "" }, "pick a prompt"));
  const setHint = h("div", { class: "hint" });
  const useOne = h("input", { type: "radio", name: "setUse", value: "one", checked: true });
  const useAll = h("input", { type: "radio", name: "setUse", value: "experiment", "data-test": "experiment-mode" });
  const limit = h("input", { type: "number", name: "limit", min: 1, max: 200, value: "10", inputmode: "numeric", "aria-label": "prompts of the set" });
  const baseline = h("input", { type: "checkbox", name: "baseline", checked: true });
  const setUse = h(
    "div",
    { class: "set-use", hidden: true },
    h("label", { class: "check" }, useOne, h("span", null, "One run, with this prompt: ", promptSel)),
    h(
      "label",
      { class: "check" },
      useAll,
      h("span", null, "An experiment: the same settings on ", limit, " prompts spread over the set"),
    ),
    h("div", { class: "field", "data-field": "limit" }, h("div", { class: "field-error", role: "alert" })),
    h("label", { class: "check indent" }, baseline, " with the ", h("code", null, "none"), " baseline on the same prompts and seeds (side effects, findings)"),
  );
  const experimentMode = (): boolean => setSel.value !== "" && useAll.checked;
  const setChanged = (): void => {
    const set = options.promptSets.find((p) => p.id === setSel.value);
    replace(promptSel, h("option", { value: "" }, set ? `pick one of ${set.prompts.length}` : "pick a prompt"), set ? set.prompts.map((p) => h("option", { value: p }, p)) : null);
    setHint.textContent = set?.description ?? "";
    setUse.hidden = !set;
    modeChanged();
  };
  const modeChanged = (): void => {
    const exp = experimentMode();
    prompt.disabled = exp;
    prompt.closest(".field")?.classList.toggle("muted", exp);
    submit.textContent = exp ? "Start experiment" : "Start run";
    limit.disabled = !exp;
    baseline.disabled = !exp;
  };
  if (options.promptSets.length > 0) {
    setSel.addEventListener("change", setChanged);
    useOne.addEventListener("change", modeChanged);
    useAll.addEventListener("change", modeChanged);
    promptSel.addEventListener("change", () => {
      if (promptSel.value) {
        prompt.value = promptSel.value;
        useOne.checked = true;
        modeChanged();
        changed();
      }
    });
    promptSetField = h(
      "div",
      { class: "field", "data-field": "promptSet" },
      h("label", { for: "f-promptSet" }, "Or use a built-in prompt set"),
      setSel,
      setHint,
      setUse,
      h("div", { class: "field-error", role: "alert" }),
    );
    setSel.id = "f-promptSet";
  }

  // ---- targets
  const targetOf = (a: ApiAttribute): TargetState => {
    let t = targets.get(a.id);
    if (!t || t.pct.length !== a.categories.length) {
      t = { mode: "uniform", pct: uniformPct(a.categories.length) };
      targets.set(a.id, t);
    }
    return t;
  };

  const sliders = (a: ApiAttribute, t: TargetState): HTMLElement => {
    const inputs: HTMLInputElement[] = [];
    const outs: HTMLOutputElement[] = [];
    const sync = (): void => {
      t.pct.forEach((p, k) => {
        inputs[k]!.value = String(p);
        outs[k]!.textContent = `${p} %`;
      });
    };
    const rows = a.categories.map((c, k) => {
      const input = h("input", { type: "range", min: 0, max: 100, step: 1, value: String(t.pct[k]), "aria-label": `${a.label}: ${c.label}, percent`, "data-cat": c.id });
      const out = h("output", null, `${t.pct[k]} %`);
      input.addEventListener("input", () => {
        t.pct = rebalance(t.pct, k, Number(input.value));
        sync();
        changed();
      });
      inputs.push(input);
      outs.push(out);
      return h("div", { class: "slider" }, h("span", { class: "slider-label" }, c.label), input, out);
    });
    return h("div", { class: "sliders" }, rows, h("div", { class: "hint" }, "The sliders always add up to 100 %: moving one rescales the others."));
  };

  const modeSwitch = (name: string, current: "uniform" | "weights", onChange: (m: "uniform" | "weights") => void): HTMLElement =>
    h(
      "div",
      { class: "seg", role: "radiogroup" },
      (["uniform", "weights"] as const).map((m) => {
        const r = h("input", { type: "radio", name, value: m, checked: current === m });
        r.addEventListener("change", () => r.checked && onChange(m));
        return h("label", null, r, m === "uniform" ? "uniform" : "set weights");
      }),
    );

  const jointGrid = (group: ApiAttribute[]): HTMLElement => {
    const [rowsAttr, ...rest] = group;
    const colCells = rest.reduce<{ key: string; label: string }[]>(
      (acc, a) => acc.flatMap((p) => a.categories.map((c) => ({ key: p.key ? `${p.key}|${c.id}` : c.id, label: p.label ? `${p.label} · ${c.label}` : c.label }))),
      [{ key: "", label: "" }],
    );
    const keys = rowsAttr!.categories.flatMap((r) => colCells.map((c) => `${r.id}|${c.key}`));
    if (jointWeights.size !== keys.length || keys.some((k) => !jointWeights.has(k))) jointWeights = new Map(keys.map((k) => [k, 1]));
    const shares = new Map<string, HTMLElement>();
    const total = h("div", { class: "hint" });
    const update = (): void => {
      const sum = [...jointWeights.values()].reduce((a, b) => a + b, 0);
      for (const [k, el] of shares) el.textContent = sum > 0 ? `${(((jointWeights.get(k) ?? 0) / sum) * 100).toFixed(1)} %` : "–";
      total.textContent = `Weights are relative; the shares under each cell add up to 100 %.${sum > 0 ? "" : " Give at least one cell a weight above 0."}`;
    };
    const table = h(
      "table",
      { class: "grid" },
      h("thead", null, h("tr", null, h("th", null, `${rowsAttr!.label} \\ ${rest.map((a) => a.label).join(" · ")}`), colCells.map((c) => h("th", null, c.label)))),
      h(
        "tbody",
        null,
        rowsAttr!.categories.map((r) =>
          h(
            "tr",
            null,
            h("th", null, r.label),
            colCells.map((c) => {
              const key = `${r.id}|${c.key}`;
              const input = h("input", { type: "number", min: 0, step: "any", value: String(jointWeights.get(key) ?? 1), "aria-label": `weight of ${r.label} · ${c.label}`, "data-cell": key, inputmode: "decimal" });
              const share = h("small", null);
              shares.set(key, share);
              input.addEventListener("input", () => {
                const v = Number(input.value);
                jointWeights.set(key, Number.isFinite(v) && v >= 0 ? v : 0);
                update();
                changed();
              });
              return h("td", null, input, share);
            }),
          ),
        ),
      ),
    );
    update();
    return h("div", null, h("div", { class: "grid-scroll" }, table), total);
  };

  const renderTargets = (): void => {
    const ids = checked();
    professionsField.hidden = !ids.includes("profession");
    jointField.hidden = ids.length < 2;
    if (isJoint()) {
      const group = jointGroup().map((id) => attrById.get(id)!);
      const key = jointGroup().join("+");
      const box = h("div", { class: "field target", "data-field": `jointTarget.${key}` });
      box.append(
        h("div", { class: "target-head" }, h("strong", null, `Target over ${group.map((a) => a.label).join(" × ")}`), modeSwitch("joint-mode", jointMode, (m) => {
          jointMode = m;
          renderTargets();
          changed();
        })),
        jointMode === "weights" ? jointGrid(group) : h("div", { class: "hint" }, `Every combination gets the same share.`),
        h("div", { class: "field-error", role: "alert" }),
      );
      replace(targetBox, box);
      return;
    }
    replace(
      targetBox,
      ids.map((id) => {
        const a = attrById.get(id)!;
        const t = targetOf(a);
        return h(
          "div",
          { class: "field target", "data-field": `target.${id}` },
          h("div", { class: "target-head" }, h("strong", null, `Target for ${a.label}`), modeSwitch(`mode-${id}`, t.mode, (m) => {
            t.mode = m;
            renderTargets();
            changed();
          })),
          t.mode === "weights" ? sliders(a, t) : h("div", { class: "hint" }, `${a.categories.length > 0 ? `Each of ${a.categories.length} categories` : "Each category"} gets the same share.`),
          h("div", { class: "field-error", role: "alert" }),
        );
      }),
    );
  };

  // ---- settings
  const settings = (): Record<string, unknown> => {
    const ids = checked();
    const out: Record<string, unknown> = experimentMode()
      ? { promptSet: setSel.value, limit: limit.value.trim() === "" ? undefined : Number(limit.value), baseline: baseline.checked }
      : { prompt: prompt.value.trim() };
    const num = (el: HTMLInputElement): number | undefined => (el.value.trim() === "" ? undefined : Number(el.value));
    out.n = num(n);
    if (isJoint()) {
      out.attributes = [];
      out.joint = [jointGroup()];
      if (jointMode === "weights") out.jointTarget = { [jointGroup().join("+")]: Object.fromEntries(jointWeights) };
    } else {
      out.attributes = ids;
      const target: Record<string, Record<string, number>> = {};
      for (const id of ids) {
        const t = targets.get(id);
        const a = attrById.get(id)!;
        if (t?.mode === "weights") target[id] = Object.fromEntries(a.categories.map((c, k) => [c.id, t.pct[k] ?? 0]));
      }
      if (Object.keys(target).length > 0) out.target = target;
    }
    if (ids.includes("profession")) out.professions = professions.value.split(",").map((p) => p.trim()).filter((p) => p);
    out.policy = policy.value;
    out.mode = mode.value;
    out.overflow = overflow.value;
    out.order = order.value;
    out.concurrency = num(concurrency);
    out.seed = num(seed);
    out.maxAttempts = num(maxAttempts);
    out.provider = model.value.trim() && provider.value !== "sim" ? `${provider.value}:${model.value.trim()}` : provider.value;
    out.observer = observer.value;
    out.providerOptions = providerOptions();
    const lat = num(latency);
    if (lat !== undefined && provider.value === "sim") out.sim = { latencyMs: lat };
    if (calibration.value.trim()) {
      out.calibration = calibration.value.trim();
      out.steer = steer.value;
    }
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  };

  const form = h(
    "form",
    { class: "run-form", novalidate: true },
    h("h1", null, "New run"),
    h("p", { class: "lead" }, "Ask the model for N images whose people follow the target distribution. Every setting is checked before anything starts."),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Prompt"),
      field("prompt", "Image prompt", prompt),
      promptSetField,
      h("div", { class: "row" }, field("n", "Images in the set (N)", n, `1 to ${options.limits.maxN}`), field("policy", "Policy", policy, "debiaspi: closed loop; none, eip, random, quota: the baselines")),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Target"),
      h("div", { class: "field", "data-field": "attributes" }, h("label", null, "Attributes to control"), h("div", { class: "chips" }, attrBoxes), h("div", { class: "field-error", role: "alert" })),
      professionsField,
      jointField,
      targetBox,
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Model and observer"),
      h("div", { class: "row" }, field("provider", "Provider", [provider, model], undefined), field("observer", "Observer (reads who is in each image)", observer)),
      providerHint,
      h("div", { class: "field", "data-field": "providerOptions" }, h("label", null, "Provider settings"), optionRows, addOptionBtn, h("div", { class: "hint" }, "What -P key=value sets on the command line, e.g. workflow = ./workflow_api.json for ComfyUI, steps = 30 for A1111. Keys never go here: they come from the server's environment."), h("div", { class: "field-error", role: "alert" })),
      observerHint,
      h(
        "details",
        null,
        h("summary", null, "More settings"),
        h(
          "div",
          { class: "row wrap" },
          field("mode", "Request mode", mode),
          field("overflow", "Image in a full bin", overflow),
          field("order", "Ask first for", order),
          field("concurrency", "Generations at once", concurrency),
          field("seed", "Seed", seed),
          field("maxAttempts", "Attempt budget", maxAttempts),
          field("sim.latencyMs", "sim: latency per image (ms)", latency),
        ),
        h(
          "div",
          { class: "row wrap" },
          field("calibration", "Calibration of the observer", calibration, "a file made by debiaspi calibrate, on the server's machine: corrected estimates beside the raw ones"),
          field("steer", "Fill bins from", steer),
        ),
      ),
    ),
    formError,
    h("div", { class: "submit-row" }, submit, status),
  );

  const providerInfo = (): void => {
    const p = options.providers.find((x) => x.id === provider.value);
    model.hidden = provider.value === "sim";
    providerHint.textContent = p ? `${p.description}.${p.env.length > 0 ? ` Reads ${p.env.join(", ")} from the server's environment.` : ""} On the command line: ${p.usage}` : "";
    const o = options.observers.find((x) => x.id === observer.value);
    observerHint.textContent = o ? `Observer: ${o.description}.` : "";
  };

  // ---- errors next to their fields: for the fields the user has touched, and all of them after a start attempt
  const touched = new Set<string>();
  let tried = false;
  const fieldOf = (el: Element | null): string | undefined => el?.closest<HTMLElement>("[data-field]")?.dataset.field;
  const showErrors = (all: FieldError[]): void => {
    const errors = tried ? all : all.filter((e) => [...touched].some((t) => e.field === t || e.field.startsWith(`${t}.`) || t.startsWith(`${e.field}.`) || (e.field === "form" && touched.size > 0)));
    for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
    for (const el of form.querySelectorAll(".field.invalid")) el.classList.remove("invalid");
    formError.textContent = "";
    for (const e of errors) {
      const target =
        form.querySelector<HTMLElement>(`[data-field="${CSS.escape(e.field)}"]`) ??
        (e.field.startsWith("jointTarget.") ? form.querySelector<HTMLElement>('[data-field^="jointTarget."]') : null) ??
        form.querySelector<HTMLElement>(`[data-field="${CSS.escape(e.field.split(".")[0]!)}"]`);
      const slot = target?.querySelector(":scope > .field-error");
      if (target && slot && target !== formError) {
        target.classList.add("invalid");
        slot.textContent = slot.textContent ? `${slot.textContent} ${e.message}` : e.message;
      } else {
        formError.append(h("div", null, e.field && e.field !== "form" ? `${e.field}: ${e.message}` : e.message));
      }
    }
    submit.disabled = errors.length > 0;
  };

  let seq = 0;
  const check = debounce(async () => {
    const mine = ++seq;
    try {
      const v = experimentMode() ? await api.validateExperiment(settings()) : await api.validate(settings());
      if (mine === seq) status.textContent = experimentMode() && v.ok && "cells" in v && v.cells ? `${v.cells} runs of N images each` : "";
      if (mine === seq) showErrors(v.errors);
    } catch (e) {
      if (mine === seq) showErrors([{ field: "form", message: (e as Error).message }]);
    }
  }, 250);
  const changed = (): void => {
    submit.disabled = false;
    void check();
  };

  form.addEventListener("input", (e) => {
    const t = e.target as HTMLElement;
    const f = fieldOf(t);
    if (f) touched.add(f);
    const name = t.getAttribute("name");
    if (name) touched.add(name);
    if (t.getAttribute("name") === "attributes" || t === joint) renderTargets();
    if (t === provider || t === observer) providerInfo();
    changed();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      tried = true;
      submit.disabled = true;
      status.textContent = "starting…";
      try {
        if (experimentMode()) {
          const { id } = await api.startExperiment(settings());
          location.hash = `#/experiments/${encodeURIComponent(id)}`;
        } else {
          const { id } = await api.start(settings());
          location.hash = `#/runs/${encodeURIComponent(id)}`;
        }
      } catch (err) {
        status.textContent = "";
        if (err instanceof ApiFailure && err.errors.length > 0) showErrors(err.errors);
        else showErrors([{ field: "form", message: (err as Error).message }]);
        form.querySelector<HTMLElement>(".field.invalid, .form-error:not(:empty)")?.scrollIntoView({ block: "center" });
      }
    })();
  });

  renderTargets();
  providerInfo();
  add(root, form);
  prompt.focus();
  return () => check.cancel();
}
