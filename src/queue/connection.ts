import type { ConnectionOptions } from "bullmq";
import { InputError } from "../core/errors.js";

/** The BullMQ queue every coordinator and worker shares; jobs are namespaced by run, so one queue serves many runs. */
export const QUEUE_NAME = "debiaspi-attempts";

/** BullMQ's default: a job whose worker stops renewing its lock for this long is taken again by another worker. */
export const DEFAULT_STALL_MS = 30_000;

/** Where the Redis password comes from (never from the URL: a command line is not a secret). */
export const REDIS_PASSWORD_ENV = "DEBIASPI_REDIS_PASSWORD";

/** The queue is gone (Redis stopped, restarted or unreachable): the run stops and stays resumable. */
export class QueueError extends Error {
  override readonly name = "QueueError";
}

export interface QueueAddress {
  /** `redis://host:port/db` without credentials, safe to print. */
  label: string;
  connection: ConnectionOptions;
}

/** Reads `redis://HOST:PORT[/DB]` (or rediss:// for TLS); the password, if any, from DEBIASPI_REDIS_PASSWORD. */
export function parseQueueUrl(raw: string, env: NodeJS.ProcessEnv = process.env): QueueAddress {
  const accepted = "expected redis://HOST:PORT or rediss://HOST:PORT (optionally /DB, a number)";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`--queue "${raw}": not a URL; ${accepted}`, "queue");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new InputError(`--queue "${raw}": scheme ${url.protocol} is not redis: or rediss:; ${accepted}`, "queue");
  if (url.password) {
    throw new InputError(`--queue: put the Redis password in the environment variable ${REDIS_PASSWORD_ENV}, not in the URL (command lines are not secret)`, "queue");
  }
  if (!url.hostname) throw new InputError(`--queue "${raw}": no host; ${accepted}`, "queue");
  const port = url.port === "" ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^\d+$/.test(dbText)) throw new InputError(`--queue "${raw}": database "${dbText}" is not a number; ${accepted}`, "queue");
  const db = dbText === "" ? 0 : Number(dbText);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const password = env[REDIS_PASSWORD_ENV];
  const connection: ConnectionOptions = {
    host,
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(password ? { password } : {}),
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
  };
  return { label: `${url.protocol}//${url.hostname}:${port}${db ? `/${db}` : ""}`, connection };
}
