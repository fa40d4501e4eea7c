/**
 * Observes every image of a folder once with one observer and caches the observations in a JSON file
 * ({ observer, options, files: { name: Observation } }), so the calibration bench and the held-out
 * measurement do not re-run a slow observer (faces: a few images per second) on each invocation.
 *
 *   node dist/bench/observe-folder.js DIR OBSERVER OUT.json
 *
 * An existing OUT.json made by the same observer is extended, not redone.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { Observation } from "../src/core/request.js";
import { builtinTaxonomy } from "../src/core/taxonomy.js";
import { getObserver } from "../src/observers/index.js";
import { closeFaceWorkers } from "../src/observers/faces.js";
import { writeAtomic } from "../src/store/files.js";
import { progress } from "./util.js";

export interface ObservationCache {
  observer: string;
  files: Record<string, Observation>;
}

const MIME: Record<string, string> = { ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp" };

export async function observeFolder(dir: string, observerId: string, out: string, inFlight = 4): Promise<ObservationCache> {
  const cache: ObservationCache = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as ObservationCache) : { observer: observerId, files: {} };
  if (cache.observer !== observerId) throw new Error(`${out} holds observations of ${cache.observer}, not ${observerId}`);
  const files = readdirSync(dir).filter((f) => MIME[extname(f).toLowerCase()] && !cache.files[f]).sort();
  const observer = getObserver(observerId);
  const tax = builtinTaxonomy();
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      const image = new Uint8Array(readFileSync(join(dir, f)));
      cache.files[f] = await observer.observe({ result: { image, mime: MIME[extname(f).toLowerCase()]!, warnings: [], meta: {} }, request: { kind: "plain" }, prompt: "" }, tax);
      done++;
      if (done % 50 === 0) {
        progress(`observe: ${done}/${files.length}`);
        writeAtomic(out, JSON.stringify(cache));
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  writeAtomic(out, JSON.stringify(cache));
  if (observerId === "faces") await closeFaceWorkers();
  return cache;
}

if (process.argv[1]?.endsWith("observe-folder.js")) {
  const [dir, id, out] = process.argv.slice(2);
  if (!dir || !id || !out) {
    process.stderr.write("usage: node dist/bench/observe-folder.js DIR OBSERVER OUT.json\n");
    process.exit(2);
  }
  await observeFolder(dir, id, out);
}
