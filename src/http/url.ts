import { InputError } from "../core/errors.js";

/** Parses a base URL given by the user; InputError when it is not an http(s) URL. */
export function parseBaseUrl(raw: string, provider: string, who = `provider ${provider}`): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`${who}: "${raw}" is not a valid URL; give one like http://127.0.0.1:7860`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(`${who}: URL "${raw}" must start with http:// or https://`);
  }
  return url;
}

/** `base` + `/path`, keeping the base's path (`/v1`, a reverse proxy's `/sd`) and dropping query and fragment. */
export function joinUrl(base: URL, path: string): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, "")}${path}`;
}

/** The base URL without credentials, query or fragment: what ids and messages show. */
export function cleanBase(base: URL): URL {
  const u = new URL(base.href);
  u.username = "";
  u.password = "";
  u.search = "";
  u.hash = "";
  return u;
}

/** The base URL as ids show it: `http://host:port/path` without a trailing slash. */
export const baseLabel = (base: URL): string => base.href.replace(/\/+$/, "");

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
/** A server on this machine (no key needed, no cost). */
export const isLocalHost = (url: URL): boolean => LOCAL_HOSTS.has(url.hostname.toLowerCase());
