import type {
  ApiAttempt,
  ApiCompare,
  ApiError,
  ApiExperimentDetail,
  ApiExperimentListItem,
  ApiLiveState,
  ApiOptions,
  ApiReport,
  ApiRunDetail,
  ApiRunListItem,
  FieldError,
} from "../../src/server/api-types.js";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** Calls the dashboard's API; the token travels in the cookie set when the page was opened. */
async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiFailure(res.status, `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const err = data as ApiError;
    if (res.status === 401) throw new ApiFailure(401, "This page lost its access token. Open the address printed by `debiaspi serve` again.");
    throw new ApiFailure(res.status, err.error ?? `HTTP ${res.status}`, err.errors ?? []);
  }
  return data as T;
}

const enc = encodeURIComponent;

export const api = {
  options: () => call<ApiOptions>("GET", "/api/options"),
  runs: () => call<{ runs: ApiRunListItem[] }>("GET", "/api/runs").then((r) => r.runs),
  experiments: () => call<{ experiments: ApiExperimentListItem[] }>("GET", "/api/experiments").then((r) => r.experiments),
  attempts: (id: string) => call<{ attempts: ApiAttempt[] }>("GET", `/api/runs/${enc(id)}/attempts`).then((r) => r.attempts),
  run: (id: string) => call<ApiRunDetail>("GET", `/api/runs/${enc(id)}`),
  validate: (settings: unknown) => call<{ ok: boolean; errors: FieldError[] }>("POST", "/api/runs/validate", settings),
  start: (settings: unknown) => call<{ id: string; live: ApiLiveState }>("POST", "/api/runs", settings),
  validateExperiment: (settings: unknown) => call<{ ok: boolean; errors: FieldError[]; cells?: number }>("POST", "/api/experiments/validate", settings),
  startExperiment: (settings: unknown) => call<{ id: string; cells: number }>("POST", "/api/experiments", settings),
  stopExperiment: (id: string) => call<{ live: ApiLiveState }>("POST", `/api/experiments/${enc(id)}/stop`, {}),
  resumeExperiment: (id: string) => call<{ live: ApiLiveState }>("POST", `/api/experiments/${enc(id)}/resume`, {}),
  stop: (id: string) => call<{ live: ApiLiveState }>("POST", `/api/runs/${enc(id)}/stop`, {}),
  resume: (id: string, maxAttempts?: number) => call<{ live: ApiLiveState }>("POST", `/api/runs/${enc(id)}/resume`, maxAttempts ? { maxAttempts } : {}),
  report: (id: string) => call<ApiReport>("GET", `/api/runs/${enc(id)}/report`),
  experiment: (id: string) => call<ApiExperimentDetail>("GET", `/api/experiments/${enc(id)}`),
  experimentReport: (id: string) => call<ApiReport>("GET", `/api/experiments/${enc(id)}/report`),
  compare: (ids: string[]) => call<ApiCompare>("GET", `/api/compare?ids=${ids.map(enc).join(",")}`),
  convergenceChart: (id: string) => call<{ svg: string }>("GET", `/api/runs/${enc(id)}/charts/convergence`),
  compareCharts: (ids: string[]) => call<ApiReport>("GET", `/api/compare/charts?ids=${ids.map(enc).join(",")}`),
  imageUrl: (id: string, image: string) => `/api/runs/${enc(id)}/${image.split("/").map(enc).join("/")}`,
  /** The gallery's small version of a run image ("images/<file>"), made and cached by the server. */
  thumbUrl: (id: string, image: string) => api.imageUrl(id, image.replace(/^images\//, "thumbs/")),
  eventsUrl: (id: string) => `/api/runs/${enc(id)}/events`,
};
