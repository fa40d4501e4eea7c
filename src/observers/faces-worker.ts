/**
 * Worker thread of the `faces` observer: loads the face models once (on the first image) and answers each
 * request with the analysis of one image. See FacesPool in faces.ts.
 */
import { parentPort } from "node:worker_threads";
import { analyseImage, type WorkerReply, type WorkerRequest } from "./faces.js";

if (!parentPort) throw new Error("faces-worker.js runs as a worker thread of the faces observer");
const port = parentPort;

// One image at a time: requests queue here in arrival order.
let queue: Promise<void> = Promise.resolve();
port.on("message", (req: WorkerRequest) => {
  queue = queue.then(async () => {
    const analysis = await analyseImage(req.bytes, req.mime, req.opts);
    const reply: WorkerReply = { id: req.id, analysis };
    port.postMessage(reply);
  });
});
