import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import {
  chiSquareTest,
  compareDistribution,
  convergenceSeries,
  entropy,
  fairnessDiscrepancy,
  klDivergence,
  maxAbsDiff,
  meanAbsDeviation,
  normalizedEntropy,
  proportions,
  totalVariation,
  wilsonInterval,
} from "../../src/core/metrics.js";


describe("proportions", () => {
  it("divides by the total", () => {
    // [30, 10] / 40 = [0.75, 0.25]
    expect(proportions([30, 10])).toEqual([0.75, 0.25]);
  });
  it("all zeros gives all zeros, empty gives empty", () => {
    expect(proportions([0, 0, 0])).toEqual([0, 0, 0]);
    expect(proportions([])).toEqual([]);
  });
  it("rejects negative counts", () => {
    expect(() => proportions([1, -1])).toThrow(RangeError);
  });
});

describe("distance metrics", () => {
  it("are all zero when p = q", () => {
    const p = [0.5, 0.5];
    const q = [0.5, 0.5];
    expect(totalVariation(p, q)).toBe(0);
    expect(maxAbsDiff(p, q)).toBe(0);
    expect(fairnessDiscrepancy(p, q)).toBe(0);
    expect(meanAbsDeviation(p, q)).toBe(0);
    expect(klDivergence(p, q)).toBe(0);
  });

  it("p = [1, 0] against q = [0.5, 0.5]", () => {
    const p = [1, 0];
    const q = [0.5, 0.5];
    // TV = 1/2 (0.5 + 0.5) = 0.5; max |diff| = 0.5
    expect(totalVariation(p, q)).toBeCloseTo(0.5, 15);
    expect(maxAbsDiff(p, q)).toBeCloseTo(0.5, 15);
    // FD = sqrt(0.5^2 + 0.5^2) = sqrt(0.5) ≈ 0.7071068
    expect(fairnessDiscrepancy(p, q)).toBeCloseTo(Math.SQRT1_2, 15);
    // MAD = (0.5 + 0.5) / 2 = 0.5
    expect(meanAbsDeviation(p, q)).toBeCloseTo(0.5, 15);
    // KL = 1 ln(1 / 0.5) + 0 = ln 2 ≈ 0.6931472
    expect(klDivergence(p, q)).toBeCloseTo(Math.LN2, 15);
  });

  it("counts q_i = 0 categories in TV/max/FD but not in MAD", () => {
    const p = [0.5, 0.3, 0.2];
    const q = [0.5, 0.5, 0];
    // |diffs| = [0, 0.2, 0.2]
    expect(totalVariation(p, q)).toBeCloseTo(0.2, 15); // (0 + 0.2 + 0.2) / 2
    expect(maxAbsDiff(p, q)).toBeCloseTo(0.2, 15);
    expect(fairnessDiscrepancy(p, q)).toBeCloseTo(Math.sqrt(0.08), 15); // sqrt(0.04 + 0.04) ≈ 0.2828427
    expect(meanAbsDeviation(p, q)).toBeCloseTo(0.1, 15); // (0 + 0.2) / 2 over the two q > 0 categories
  });

  it("KL of [0.25, 0.75] against [0.5, 0.5]", () => {
    // 0.25 ln 0.5 + 0.75 ln 1.5 = -0.1732868 + 0.3040988 = 0.1308120
    expect(klDivergence([0.25, 0.75], [0.5, 0.5])).toBeCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), 15);
    expect(klDivergence([0.25, 0.75], [0.5, 0.5])).toBeCloseTo(0.130812, 6);
  });

  it("KL is Infinity when p_i > 0 where q_i = 0, and ignores p_i = 0 where q_i = 0", () => {
    expect(klDivergence([0.5, 0.5], [1, 0])).toBe(Infinity);
    // p = q = [1, 0]: only the first term counts, 1 ln 1 = 0
    expect(klDivergence([1, 0], [1, 0])).toBe(0);
  });

  it("throws RangeError on length mismatch", () => {
    const p = [0.5, 0.5];
    const q = [1 / 3, 1 / 3, 1 / 3];
    for (const f of [totalVariation, maxAbsDiff, fairnessDiscrepancy, meanAbsDeviation, klDivergence]) {
      expect(() => f(p, q)).toThrow(RangeError);
    }
    expect(() => totalVariation(p, q)).toThrow(/same number of categories/);
    expect(() => chiSquareTest([1, 2], q)).toThrow(RangeError);
    expect(() => compareDistribution([1, 2], q)).toThrow(RangeError);
  });
});

describe("entropy", () => {
  it("uniform over 4 is ln 4, a point mass is 0", () => {
    expect(entropy([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(Math.log(4), 15);
    expect(entropy([1, 0, 0])).toBe(0);
  });
  it("normalised entropy of uniform over 7 is 1", () => {
    expect(normalizedEntropy(new Array(7).fill(1 / 7))).toBeCloseTo(1, 14);
  });
  it("normalised entropy of other cases", () => {
    expect(normalizedEntropy([1, 0])).toBe(0);
    // ln 2 / ln 3 ≈ 0.6309298
    expect(normalizedEntropy([0.5, 0.5, 0])).toBeCloseTo(0.6309298, 6);
    expect(normalizedEntropy([0, 0, 0])).toBe(0);
    expect(normalizedEntropy([])).toBe(0);
    expect(normalizedEntropy([1])).toBe(1);
  });
});

describe("chiSquareTest", () => {
  it("[30, 10] against [0.5, 0.5]: statistic 10, df 1, p ≈ 0.001565", () => {
    // expected 20 each: (10^2 + 10^2) / 20 = 10. P(χ²₁ > 10) = erfc(sqrt 5) = 0.0015654022580025...
    // (table: χ²₁ critical values 7.879 at p = 0.005 and 10.828 at p = 0.001, so p lies between)
    const r = chiSquareTest([30, 10], [0.5, 0.5]);
    expect(r.statistic).toBeCloseTo(10, 12);
    expect(r.df).toBe(1);
    expect(r.pValue).toBeCloseTo(0.0015654, 7);
    expect(r.pValue).toBeGreaterThan(0.001);
    expect(r.pValue).toBeLessThan(0.005);
  });

  it("df = 2 has the closed form p = exp(-x/2)", () => {
    // [20, 10, 0] vs uniform: expected 10 each, (100 + 0 + 100) / 10 = 20, p = e^-10 ≈ 4.54e-5
    const r = chiSquareTest([20, 10, 0], [1 / 3, 1 / 3, 1 / 3]);
    expect(r.statistic).toBeCloseTo(20, 10);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-10), 9);
  });

  it("[10, 10, 10] against uniform gives p = 1", () => {
    const r = chiSquareTest([10, 10, 10], [1 / 3, 1 / 3, 1 / 3]);
    expect(r.statistic).toBeCloseTo(0, 12);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(1, 12);
  });

  it("only counts q_i > 0 categories in df", () => {
    // [5, 5, 0] vs [0.5, 0.5, 0]: df = 2 - 1 = 1, perfect fit
    expect(chiSquareTest([5, 5, 0], [0.5, 0.5, 0])).toEqual({ statistic: 0, df: 1, pValue: 1 });
  });

  it("counts in a q_i = 0 category give Infinity and p 0", () => {
    expect(chiSquareTest([5, 5, 1], [0.5, 0.5, 0])).toEqual({ statistic: Infinity, df: 1, pValue: 0 });
  });

  it("n = 0 and df = 0 give p 1", () => {
    expect(chiSquareTest([0, 0, 0], [0.2, 0.3, 0.5])).toEqual({ statistic: 0, df: 2, pValue: 1 });
    expect(chiSquareTest([7, 0], [1, 0])).toEqual({ statistic: 0, df: 0, pValue: 1 });
  });
});

describe("wilsonInterval", () => {
  // z = 1.959964, z^2 = 3.841459, z^2/n = 0.3841459 for n = 10
  it("5/10 ≈ [0.2366, 0.7634]", () => {
    // centre = (0.5 + 0.1920729) / 1.3841459 = 0.5; half = z / 1.3841459 * sqrt(0.025 + 0.0096036) = 0.2634
    const r = wilsonInterval(5, 10);
    expect(r.low).toBeCloseTo(0.2366, 4);
    expect(r.high).toBeCloseTo(0.7634, 4);
  });
  it("0/10 ≈ [0, 0.2775] and 10/10 ≈ [0.7225, 1]", () => {
    // centre = 0.1920729 / 1.3841459 = 0.138767 = half, so high = 0.277534
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(0, 10).high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10).low).toBeCloseTo(0.7225, 4);
    expect(wilsonInterval(10, 10).high).toBe(1);
  });
  it("n = 0 gives [0, 1]", () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });
  it("a custom z: z = 1 for 5/10", () => {
    // centre 0.5, half = 1 / 1.1 * sqrt(0.025 + 0.0025) = 0.150756
    const r = wilsonInterval(5, 10, 1);
    expect(r.low).toBeCloseTo(0.5 - Math.sqrt(0.0275) / 1.1, 12);
    expect(r.high).toBeCloseTo(0.5 + Math.sqrt(0.0275) / 1.1, 12);
  });
  it("rejects successes outside [0, n]", () => {
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
  });
});

describe("compareDistribution", () => {
  it("[30, 10] against [0.5, 0.5]", () => {
    const m = compareDistribution([30, 10], [0.5, 0.5]);
    expect(m.n).toBe(40);
    expect(m.p).toEqual([0.75, 0.25]);
    expect(m.tv).toBeCloseTo(0.25, 15); // (0.25 + 0.25) / 2
    expect(m.maxAbsDiff).toBeCloseTo(0.25, 15);
    expect(m.fd).toBeCloseTo(Math.sqrt(0.125), 15); // ≈ 0.3535534
    expect(m.mad).toBeCloseTo(0.25, 15);
    expect(m.kl).toBeCloseTo(0.130812, 6); // 0.75 ln 1.5 + 0.25 ln 0.5
    // (−0.75 ln 0.75 − 0.25 ln 0.25) / ln 2 = (0.2157616 + 0.3465736) / 0.6931472 ≈ 0.8112781
    expect(m.normalizedEntropy).toBeCloseTo(0.8112781, 6);
    expect(m.chiSquare.statistic).toBeCloseTo(10, 12);
    expect(m.chiSquare.pValue).toBeCloseTo(0.0015654, 7);
    expect(m.intervals).toHaveLength(2);
    expect(m.intervals[0]).toEqual(wilsonInterval(30, 40));
    expect(m.intervals[1]).toEqual(wilsonInterval(10, 40));
    // Wilson for 30/40: centre = (0.75 + 0.0480182) / 1.0960365 = 0.728094;
    // half = (1.959964 / 1.0960365) * sqrt(0.0046875 + 0.0006002) = 1.788231 * 0.0727168 = 0.130034
    // so the interval ≈ [0.5981, 0.8581]
    expect(m.intervals[0]!.low).toBeCloseTo(0.5981, 3);
    expect(m.intervals[0]!.high).toBeCloseTo(0.8581, 3);
  });
});

describe("convergenceSeries", () => {
  it("a short hand-worked sequence", () => {
    // q = [0.5, 0.5]; after 0: p = [1, 0], TV 0.5; -1 repeats 0.5; after 1: p = [0.5, 0.5], TV 0
    expect(convergenceSeries([0, -1, 1], [0.5, 0.5])).toEqual([0.5, 0.5, 0]);
    // unknown before any known item is 1
    expect(convergenceSeries([-1, 0], [0.5, 0.5])).toEqual([1, 0.5]);
    expect(convergenceSeries([], [0.5, 0.5])).toEqual([]);
  });

  it("rejects indices outside [0, k) other than -1", () => {
    expect(() => convergenceSeries([0, 2], [0.5, 0.5])).toThrow(RangeError);
    expect(() => convergenceSeries([-2], [0.5, 0.5])).toThrow(RangeError);
    expect(() => convergenceSeries([0.5], [0.5, 0.5])).toThrow(RangeError);
  });

  for (const withUnknown of [false, true]) {
    it(`equals TV recomputed from scratch at every step (200 seeded items over 4 categories${withUnknown ? ", with unknowns" : ""})`, () => {
      const rng = new Rng(withUnknown ? 12345 : 42);
      const rand = (): number => rng.next();
      const q = [0.4, 0.3, 0.2, 0.1];
      const seq: number[] = [];
      for (let i = 0; i < 200; i++) {
        seq.push(withUnknown && rand() < 0.15 ? -1 : Math.floor(rand() * 4));
      }
      const series = convergenceSeries(seq, q);
      expect(series).toHaveLength(200);
      let prev = 1;
      for (let i = 0; i < seq.length; i++) {
        const counts = [0, 0, 0, 0];
        for (const c of seq.slice(0, i + 1)) if (c >= 0) counts[c]!++;
        const known = counts.some((c) => c > 0);
        const expected = known ? totalVariation(proportions(counts), q) : 1;
        expect(series[i]).toBeCloseTo(expected, 14);
        if (seq[i] === -1) expect(series[i]).toBe(prev);
        prev = series[i]!;
      }
      if (withUnknown) expect(seq).toContain(-1);
    });
  }
});
