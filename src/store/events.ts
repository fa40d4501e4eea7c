import type { Observation, Request } from "../core/request.js";
import type { PersonReport } from "../providers/types.js";

/** What happened to an attempt's image. */
export type Decision =
  /** In the set. */
  | "kept"
  /** Closed loop, overflow discard: it landed in a full bin; kept apart. */
  | "overflow"
  /** Closed loop, overflow discard: a controlled attribute could not be observed; kept apart. */
  | "unknown"
  /** The set was already complete when it arrived (parallel requests). */
  | "surplus"
  /** No image: the provider refused. */
  | "refused"
  /** No image: the provider failed. */
  | "error";

/** One line of events.jsonl per attempt. */
export interface AttemptEvent {
  type: "attempt";
  /** Attempt index: the order requests were issued in; its seed is derived from it. */
  i: number;
  t: string;
  request: Request;
  prompt: string;
  seed: number;
  outcome: "image" | "refusal" | "error";
  /** Run-relative path of the image file (content-addressed). */
  image?: string;
  refusal?: string;
  error?: string;
  selfReport?: PersonReport[];
  revisedPrompt?: string;
  costUsd?: number;
  warnings?: string[];
  meta?: Record<string, unknown>;
  observation?: Observation;
  /** What the checking observers saw in the same image. */
  checks?: Observation[];
  decision: Decision;
  /** Kept count and counts per factor cell after this attempt. */
  kept: number;
  tally: Record<string, Record<string, number>>;
  /** Time the provider took, ms. */
  ms: number;
}

/** The last line of a finished run. */
export interface EndEvent {
  type: "end";
  t: string;
  /** provider-errors / observer-errors: stopped after too many failures in a row; resumable once the service is fixed. */
  reason: "complete" | "budget" | "provider-errors" | "observer-errors" | "cost";
  message?: string;
}

export type RunEvent = AttemptEvent | EndEvent;

/** What is written before an attempt is observed, so a kill between the image and its event line loses nothing. */
export type PendingRecord = Omit<AttemptEvent, "observation" | "checks" | "decision" | "kept" | "tally">;
