import { apportion } from "./apportion.js";
import { InputError, listAccepted } from "./errors.js";
import { getAttribute, getCategory, type Attribute, type Taxonomy } from "./taxonomy.js";

/** The largest N a run accepts: beyond it a typo (an extra zero or two) is likelier than intent. */
export const MAX_N = 100_000;

/** What the user asked for, before validation against the taxonomy. */
export interface TargetSpec {
  /** Attributes to control. Attributes named in `weights` or `joint` are added. */
  attributes: string[];
  /** Marginal weights per attribute: category -> weight. Categories left out get weight 0. Default uniform. */
  weights?: Record<string, Record<string, number>>;
  /** Groups of attributes controlled jointly (race x gender); the rest are independent marginals. */
  joint?: string[][];
  /**
   * Explicit weights for a joint group, keyed by the group's attributes joined with "," and then
   * by cell (categories joined with "|"): { "race+gender": { "black|female": 2 } } (the attributes joined with
   * "+", as everywhere; "race,gender" is read too, for configs written before). Cells left out
   * get weight 0. Without it, a joint cell's weight is the product of its marginal weights.
   */
  jointWeights?: Record<string, Record<string, number>>;
}

/** One independently controlled part of the target: one attribute, or several jointly. */
export interface Factor {
  /** "gender" or "race+gender". */
  id: string;
  attributes: string[];
  /** Every combination of categories, in taxonomy order; cell[i] is a category id of attributes[i]. */
  cells: string[][];
  /** Target share of each cell (sums to 1). */
  q: number[];
  /** Integer quota of each cell (sums to n). */
  bins: number[];
}

export interface Target {
  n: number;
  factors: Factor[];
  /** All controlled attributes, in factor order. */
  attributes: string[];
}

export const cellKey = (cell: readonly string[]): string => cell.join("|");

function cartesian(lists: readonly string[][]): string[][] {
  return lists.reduce<string[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

function checkWeight(w: number, where: string): void {
  if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
    throw new InputError(`${where}: weight ${String(w)} is not accepted; weights are finite numbers >= 0`);
  }
}

/** Marginal weights of one attribute, in taxonomy order, validated. */
function marginalWeights(attr: Attribute, given: Record<string, number> | undefined): number[] {
  if (attr.categories.length < 2) {
    throw new InputError(
      `attribute "${attr.id}" needs at least two categories to be controlled` +
        (attr.id === "profession" ? "; list professions with --professions or `professions:` in the config" : ""),
    );
  }
  if (!given) return attr.categories.map((c) => (c.observedOnly ? 0 : 1));
  const w = attr.categories.map(() => 0);
  for (const [name, value] of Object.entries(given)) {
    const c = getCategory(attr, name);
    checkWeight(value, `target for ${attr.id}=${name}`);
    if (c.observedOnly && value > 0) throw new InputError(`target for ${attr.id}=${c.id}: "${c.label}" is observed, never requested; give it no weight`);
    w[attr.categories.indexOf(c)] = value;
  }
  if (w.every((x) => x === 0)) {
    throw new InputError(`target for "${attr.id}": all weights are zero; give at least one positive weight`);
  }
  return w;
}

/**
 * Validates a target spec against the taxonomy and apportions N into integer bins (largest
 * remainder; ties broken by `tieBreak(length)` if given, e.g. a seeded shuffle).
 */
export function resolveTarget(
  tax: Taxonomy,
  spec: TargetSpec,
  n: number,
  tieBreak?: (length: number) => number[],
): Target {
  if (!Number.isInteger(n) || n < 1) throw new InputError(`N must be a whole number >= 1, got ${n}`);
  if (n > MAX_N) throw new InputError(`N = ${n} is larger than the accepted maximum of ${MAX_N}`);

  const attrs: Attribute[] = [];
  const addAttr = (name: string): Attribute => {
    const a = getAttribute(tax, name);
    if (!attrs.includes(a)) attrs.push(a);
    return a;
  };
  for (const a of spec.attributes) addAttr(a);
  for (const a of Object.keys(spec.weights ?? {})) addAttr(a);

  const groups: Attribute[][] = [];
  const inGroup = new Set<string>();
  for (const group of spec.joint ?? []) {
    if (group.length < 2) throw new InputError(`a joint target needs at least two attributes, got "${group.join("+")}"`);
    const resolved = group.map((name) => getAttribute(tax, name, "attribute in joint target"));
    const ids = resolved.map((a) => a.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new InputError(`joint target "${group.join("+")}" names "${dup}" twice; name each attribute once`);
    for (const a of resolved) {
      if (inGroup.has(a.id)) throw new InputError(`attribute "${a.id}" is in two joint targets; an attribute can be in one only`);
      inGroup.add(a.id);
      addAttr(a.id);
    }
    groups.push(resolved);
  }
  if (attrs.length === 0) {
    throw new InputError(`no attribute to control; name some with --attributes (accepted: ${listAccepted(tax.attributes.map((a) => a.id))})`);
  }

  const jointWeights = normaliseJointWeights(tax, spec.jointWeights, groups);

  const factorsAttrs: Attribute[][] = [];
  for (const a of attrs) {
    if (inGroup.has(a.id)) {
      const g = groups.find((grp) => grp[0] === a);
      if (g) factorsAttrs.push(g);
    } else factorsAttrs.push([a]);
  }

  const factors = factorsAttrs.map((fa): Factor => {
    const marg = fa.map((a) => marginalWeights(a, spec.weights?.[a.id]));
    const cellIdx = cartesian(fa.map((a) => a.categories.map((_, i) => String(i)))).map((c) => c.map(Number));
    const cells = cellIdx.map((ix) => ix.map((i, k) => fa[k]!.categories[i]!.id));
    let w = cellIdx.map((ix) => ix.reduce((p, i, k) => p * marg[k]![i]!, 1));
    const groupKey = fa.map((a) => a.id).join("+");
    const explicit = fa.length > 1 ? jointWeights.get(groupKey) : undefined;
    if (explicit) {
      w = cells.map(() => 0);
      for (const [key, value] of Object.entries(explicit)) {
        const parts = key.split("|");
        if (parts.length !== fa.length) {
          throw new InputError(`joint target ${groupKey}: cell "${key}" must name ${fa.length} categories separated by "|"`);
        }
        const ids = parts.map((p, k) => getCategory(fa[k]!, p).id);
        checkWeight(value, `joint target ${groupKey} cell ${key}`);
        w[cells.findIndex((c) => cellKey(c) === cellKey(ids))] = value;
      }
    }
    const total = w.reduce((s, x) => s + x, 0);
    if (!(total > 0)) throw new InputError(`joint target ${groupKey}: all cell weights are zero; give at least one positive weight`);
    const q = w.map((x) => x / total);
    const bins = apportion(q, n, tieBreak?.(q.length));
    return { id: fa.map((a) => a.id).join("+"), attributes: fa.map((a) => a.id), cells, q, bins };
  });
  return { n, factors, attributes: factors.flatMap((f) => f.attributes) };
}

/**
 * The joint weights keyed by their group's attributes in the group's order ("race+gender"), with
 * each cell's categories put in that order too: a key may name the group's attributes in any order
 * ("gender,race": { "female|black": 2 }) and with aliases. A key that is no joint group is refused,
 * not ignored (it would give a uniform target without a word).
 */
function normaliseJointWeights(tax: Taxonomy, all: TargetSpec["jointWeights"], groups: Attribute[][]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const from = new Map<string, string>();
  for (const [key, cells] of Object.entries(all ?? {})) {
    const named = key.split(/[,+×]/).map((s) => getAttribute(tax, s.trim(), "attribute in jointTarget"));
    const group = groups.find((g) => g.length === named.length && named.every((a) => g.includes(a)) && new Set(named).size === named.length);
    if (!group) {
      const have = groups.length > 0 ? groups.map((g) => g.map((a) => a.id).join("+")).join("; ") : "none";
      const hint = groups.length === 0 ? `; add joint: [[${named.map((a) => a.id).join(", ")}]]` : "";
      throw new InputError(`jointTarget "${key}": no joint target of these attributes (joint: ${have})${hint}`);
    }
    const groupKey = group.map((a) => a.id).join("+");
    const earlier = from.get(groupKey);
    if (earlier !== undefined) throw new InputError(`jointTarget: "${earlier}" and "${key}" name the same joint target; give its weights once`);
    from.set(groupKey, key);
    // Position in the key of each of the group's attributes.
    const order = group.map((a) => named.indexOf(a));
    const reordered: Record<string, number> = {};
    for (const [cell, w] of Object.entries(cells)) {
      const parts = cell.split("|");
      reordered[parts.length === group.length ? order.map((k) => parts[k]!).join("|") : cell] = w;
    }
    out.set(groupKey, reordered);
  }
  return out;
}

/** The target's marginal distribution over one controlled attribute's categories. */
export function marginalTarget(tax: Taxonomy, target: Target, attrId: string): { categories: string[]; q: number[]; bins: number[] } | undefined {
  const factor = target.factors.find((f) => f.attributes.includes(attrId));
  if (!factor) return undefined;
  const k = factor.attributes.indexOf(attrId);
  const attr = getAttribute(tax, attrId);
  const categories = attr.categories.map((c) => c.id);
  const q = categories.map(() => 0);
  const bins = categories.map(() => 0);
  factor.cells.forEach((cell, i) => {
    const j = categories.indexOf(cell[k]!);
    q[j] = q[j]! + factor.q[i]!;
    bins[j] = bins[j]! + factor.bins[i]!;
  });
  return { categories, q, bins };
}
