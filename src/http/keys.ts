import { InputError } from "../core/errors.js";
import { parseBaseUrl } from "./url.js";

/** Replaces every secret in a text with "***", so keys never reach a log, a report or an error. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  return out;
}

/** Reads an API key from the environment; a clear InputError (naming the variable, never a value) when missing. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, provider: string): string {
  const v = env[name];
  if (!v || v.trim() === "") throw new InputError(`provider ${provider} needs the environment variable ${name} (the API key); set it and run again`);
  return v.trim();
}

/**
 * Where a key read from the environment may be sent. `any`: to whatever URL the settings name (the
 * CLI and the library, whose settings come from the key's owner). `env`: only to the base URL the
 * environment names or the provider's default (the dashboard, whose settings come from a web page:
 * a page must not point the server's key at a server of its choosing).
 */
export type KeyScope = "any" | "env";

const normalUrl = (u: URL): string => `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, "")}`;

/**
 * Throws an InputError (on `field`) when `scope` is `env` and `url` is none of `trusted` (the base URL
 * from the environment and the provider's default; undefined entries are skipped). Names the key's
 * variable and the URLs, never the key.
 */
export function checkKeyDestination(scope: KeyScope | undefined, who: string, keyVar: string, url: URL, trusted: readonly (string | undefined)[], field: string): void {
  if (scope !== "env") return;
  const allowed: string[] = [];
  for (const t of trusted) {
    if (!t) continue;
    try {
      allowed.push(normalUrl(new URL(t)));
    } catch {
      // an unreadable URL in the environment trusts nothing
    }
  }
  if (allowed.includes(normalUrl(url))) return;
  throw new InputError(
    `${who}: ${field} ${url.origin} would receive ${keyVar} from the server's environment; the dashboard sends it only to ${allowed.length > 0 ? allowed.join(" or ") : "the URL set in the server's environment (none is)"}. ` +
      "Set that URL in the server's environment, or start the server with `debiaspi serve --allow-any-base-url`",
    field,
  );
}

/**
 * The base URL and API key of a keyed service: the URL from the settings (`baseUrl`), else the environment
 * (`baseEnv`), else `defaultBase`; the key from `keyEnv` (InputError when missing); and, with scope `env`, the
 * key only to the environment's URL or the default.
 */
export function keyedServer(opts: {
  id: string;
  env: NodeJS.ProcessEnv;
  keyEnv: string;
  baseUrl: string | undefined;
  baseEnv?: string;
  defaultBase: string;
  keyScope: KeyScope | undefined;
}): { base: URL; apiKey: string } {
  const envBase = opts.baseEnv ? opts.env[opts.baseEnv]?.trim() : undefined;
  const apiKey = requireEnv(opts.env, opts.keyEnv, opts.id);
  const base = parseBaseUrl(opts.baseUrl ?? (envBase ? envBase : opts.defaultBase), opts.id);
  checkKeyDestination(opts.keyScope, `provider ${opts.id}`, opts.keyEnv, base, [envBase || opts.defaultBase], "providerOptions.baseUrl");
  return { base, apiKey };
}
