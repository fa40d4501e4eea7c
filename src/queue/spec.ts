import { resolve as resolvePath } from "node:path";
import type { ResolvedRun } from "../config/resolve.js";
import type { RunRecord } from "../analysis/summary.js";
import { MAX_QUEUE_IMAGE_BYTES, runNamespace, type RunJobSpec } from "./jobs.js";

/** What every job of this run carries: how a worker builds the run's provider and observers, and where the image goes. */
export function queueJobSpec(resolved: ResolvedRun, record: RunRecord, dir: string | undefined, queueDir: string | undefined): RunJobSpec {
  const { config } = resolved;
  const options = (id: string): Record<string, unknown> => (config.observerOptions?.[id] ?? {}) as Record<string, unknown>;
  return {
    namespace: runNamespace(dir ? resolvePath(dir) : `(memory)-${process.pid}-${Date.now()}`, record.id, record.createdAt),
    provider: { spec: config.provider, options: config.providerOptions ?? {}, sim: (config.sim ?? {}) as Record<string, unknown> },
    observer: { id: config.observer, options: options(config.observer) },
    checks: (config.checks ?? []).map((id) => ({ id, options: options(id) })),
    taxonomy: resolved.taxonomy,
    transfer: queueDir ? { kind: "dir", dir: resolvePath(queueDir) } : { kind: "redis", maxBytes: MAX_QUEUE_IMAGE_BYTES },
  };
}
