/**
 * CSV text to rows (RFC 4180: quoted fields, doubled quotes, CRLF, a leading BOM), pure: no I/O. Used for
 * calibration labels files and the real-model counts behind the sim profiles.
 */
import { InputError } from "./errors.js";

/** Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF) into rows of objects keyed by the header. */
export function parseCsv(text: string, source: string, emptyHint = "give a header row and one row per record"): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const body = text.replace(/^\uFEFF/, "");
  while (i < body.length) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && body[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
    i++;
  }
  if (quoted) throw new InputError(`${source}: a quoted field is not closed`);
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const rows = records.filter((r) => r.some((v) => v.trim() !== ""));
  if (rows.length === 0) throw new InputError(`${source}: the file is empty; ${emptyHint}`);
  const header = rows[0]!.map((h) => h.trim());
  return rows.slice(1).map((r, k) => {
    if (r.length !== header.length) throw new InputError(`${source}: row ${k + 2} has ${r.length} fields, the header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, r[j]!.trim()]));
  });
}
