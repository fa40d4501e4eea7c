/** How FastAPI servers (AUTOMATIC1111, Forge, and other Python backends) say what went wrong. */

/** FastAPI's `{"detail": ...}` (a string, or a list of `{loc, msg}` for a 422) as one line. */
export function describeDetail(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  const detail = b.detail;
  if (typeof detail === "string" && detail.trim() !== "") parts.push(detail.trim());
  else if (Array.isArray(detail)) {
    for (const d of detail) {
      if (d && typeof d === "object") {
        const e = d as { loc?: unknown; msg?: unknown };
        const loc = Array.isArray(e.loc) ? e.loc.join(".") : undefined;
        parts.push(`${loc ? `${loc}: ` : ""}${typeof e.msg === "string" ? e.msg : JSON.stringify(d)}`);
      } else parts.push(String(d));
    }
  }
  // A1111's own exception handler: {"error": "OutOfMemoryError", "detail": "", "body": "", "errors": "CUDA out of memory..."}
  if (typeof b.error === "string" && b.error) parts.push(typeof b.errors === "string" && b.errors ? `${b.error}: ${b.errors}` : b.error);
  return parts.length > 0 ? parts.join("; ") : undefined;
}
