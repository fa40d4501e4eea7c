import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

type Generator = ReturnType<typeof xoroshiro128plusFromState>;

/** splitmix32 step: spreads a small seed over all bits (xoroshiro starts badly from sparse states). */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) | 0];
}

/**
 * A small seeded random source. Every random choice in a run comes from one of these, derived
 * from the run seed and the attempt index, so a run is reproducible and a resumed run makes the
 * same choices as an uninterrupted one.
 */
export class Rng {
  private readonly gen: Generator;

  constructor(seed: number) {
    const words: number[] = [];
    let st = seed | 0;
    for (let k = 0; k < 4; k++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    if (!words.some((w) => w !== 0)) words[0] = 1;
    this.gen = xoroshiro128plusFromState(words);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0) throw new RangeError(`Rng.int needs n > 0, got ${n}`);
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Index drawn with probability proportional to weights (which need not sum to 1). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w > 0 ? w : 0;
    if (total <= 0) return this.int(weights.length);
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]! > 0 ? weights[i]! : 0;
      if (x < w) return i;
      x -= w;
    }
    return weights.length - 1;
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }
}

/** Mixes a run seed with further integers (attempt index, a stream tag) into one 32-bit seed. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of [...parts, parts.length]) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Stable 32-bit hash of a string (FNV-1a), for seeds derived from text such as a prompt. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
