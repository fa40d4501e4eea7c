import Table from "cli-table3";

/** A terminal table without lines between rows. */
export function plainTable(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });
}
