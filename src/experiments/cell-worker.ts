/** A worker thread of CellPool: runs the cells it is sent, one at a time. */
import { parentPort } from "node:worker_threads";
import { InputError } from "../core/errors.js";
import { runCell } from "./cell.js";
import type { CellWorkerReply, CellWorkerRequest } from "./cell-pool.js";

const port = parentPort;
if (!port) throw new Error("cell-worker.js runs as a worker thread of CellPool");
let current: AbortController | undefined;

port.on("message", (msg: CellWorkerRequest) => {
  if (msg.type === "abort") {
    current?.abort();
    return;
  }
  const controller = new AbortController();
  current = controller;
  runCell(msg.dir, msg.cell, { signal: controller.signal }).then(
    ({ action, summary }) => port.postMessage({ type: "done", action, summary } satisfies CellWorkerReply),
    (e: unknown) => {
      const reply: CellWorkerReply =
        e instanceof InputError
          ? { type: "failed", message: e.message, input: true, ...(e.field !== undefined ? { field: e.field } : {}) }
          : { type: "failed", message: e instanceof Error ? e.message : String(e), input: false };
      port.postMessage(reply);
    },
  );
});
