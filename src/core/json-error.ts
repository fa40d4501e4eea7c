/**
 * Where JSON.parse stopped, as "at line L, column C", without quoting the text: the parser's own message
 * quotes the start of the input, and a file named by a user (a workflow, a calibration, a labels file) may
 * be any file on the machine.
 */
export function jsonErrorPlace(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m) return text.trim() === "" ? "the file is empty" : "unexpected end or character";
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - before.lastIndexOf("\n");
  return `at line ${line}, column ${col}`;
}
