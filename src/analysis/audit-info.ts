/**
 * What an audit folder records besides its run files (`audit.json`): the folder that was audited, the observers
 * (the first reported, the others checking it) and the files found there that are not readable images. The
 * report titles an audit by it; an audit folder written before this file existed falls back to its run.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../core/errors.js";
import type { AuditReport } from "./model.js";
import type { RunRecord } from "./summary.js";

/** The file in an audit folder holding its {@link AuditFolderInfo}. */
export const AUDIT_INFO_FILE = "audit.json";

const unreadableSchema = z.object({ file: z.string(), reason: z.string() }).strict();

const auditInfoSchema = z
  .object({
    /** The audited folder (absolute). */
    source: z.string().min(1),
    observers: z.array(z.string().min(1)).min(1),
    /** Files found that are not readable images (not among the images counted). */
    unreadable: z.array(unreadableSchema),
  })
  .strict();

/** A file of the audited folder that is not a readable image, and why (the reader's or decoder's message). */
export type UnreadableFile = z.infer<typeof unreadableSchema>;
export type AuditFolderInfo = z.infer<typeof auditInfoSchema>;

/** The prompt an audit's summary and folder carry: `(audit of DIR)`. */
export const auditPrompt = (source: string): string => `(audit of ${source})`;

/**
 * The audit facts of an audit folder for its report: from audit.json, or (older folders) from the prompt and
 * observers of its run.json. InputError when audit.json is there but is not one.
 */
export function auditReportOf(dir: string, record: RunRecord, images: number): AuditReport {
  const file = join(dir, AUDIT_INFO_FILE);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new InputError(`${file}: not JSON (${(e as Error).message})`);
    }
    const info = auditInfoSchema.safeParse(parsed);
    if (!info.success) throw new InputError(`${file}: not an audit record (${info.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")})`);
    return { ...info.data, images };
  }
  const source = /^\(audit of (.+)\)$/.exec(record.config.prompt)?.[1] ?? record.config.prompt;
  return { source, observers: [record.config.observer, ...(record.config.checks ?? [])], unreadable: [], images };
}
