import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import { gridDivergence } from '../src/divergence.js';
import {
  bootstrapMean,
  bootstrapRatio,
  cohensD,
  compare,
  divergenceRows,
  jsLogProbs,
  klLogProbs,
  pairedD,
  pairedRankBiserial,
  permutationTest,
  rankBiserial,
} from '../src/stats.js';

const NEG = Number.NEGATIVE_INFINITY;
const bern = (p: number) => [Math.log(p), Math.log(1 - p)];
const H = (ps: number[]) => -ps.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);

describe('KL / JS on log-probs', () => {
  it('Bernoulli KL matches p ln(p/q) + (1-p) ln((1-p)/(1-q))', () => {
    for (const [p, q] of [
      [0.3, 0.6],
      [0.01, 0.5],
      [0.9, 0.1],
      [0.5, 0.5],
    ] as const) {
      const want = p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
      expect(klLogProbs(bern(p), bern(q))).toBeCloseTo(want, 12);
    }
  });

  it('KL of finely discretised Gaussians matches the Gaussian closed form', () => {
    const grid = Array.from({ length: 4801 }, (_, i) => -12 + i * 0.005);
    const g = (mu: number, s: number) => grid.map((x) => -((x - mu) ** 2) / (2 * s * s) - Math.log(s));
    const [m1, s1, m2, s2] = [0, 1, 0.5, 1.5];
    const want = Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;
    expect(klLogProbs(g(m1, s1), g(m2, s2))).toBeCloseTo(want, 8);
  });

  it('renormalises unnormalised log-probs (shift invariance)', () => {
    const a = [0.1, -2, 3];
    const b = [1, 1, -1];
    expect(
      klLogProbs(
        a.map((x) => x + 7),
        b.map((x) => x - 3),
      ),
    ).toBeCloseTo(klLogProbs(a, b), 12);
  });

  it('handles zeros: 0·log 0 = 0, mass on a zero of q gives Infinity, JS stays finite', () => {
    const p = [Math.log(0.5), Math.log(0.5), NEG];
    const q = [Math.log(0.25), Math.log(0.25), Math.log(0.5)];
    expect(klLogProbs(p, q)).toBeCloseTo(Math.log(2), 12);
    expect(klLogProbs(q, p)).toBe(Number.POSITIVE_INFINITY);
    const js = jsLogProbs(q, p);
    // Closed form: JS = H(m) − (H(p) + H(q)) / 2.
    const want = H([0.375, 0.375, 0.25]) - (H([0.5, 0.5]) + H([0.25, 0.25, 0.5])) / 2;
    expect(js).toBeCloseTo(want, 12);
    expect(klLogProbs([0, NEG], [0, NEG])).toBe(0);
  });

  it('JS: symmetric, Bernoulli closed form, ln 2 for disjoint supports, 0 for equal rows', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 20; t++) {
      const p = rng.uniform();
      const q = rng.uniform();
      const want = H([(p + q) / 2, 1 - (p + q) / 2]) - (H([p, 1 - p]) + H([q, 1 - q])) / 2;
      expect(jsLogProbs(bern(p), bern(q))).toBeCloseTo(want, 12);
      expect(jsLogProbs(bern(q), bern(p))).toBeCloseTo(want, 12);
      expect(jsLogProbs(bern(p), bern(q))).toBeLessThanOrEqual(Math.LN2);
    }
    expect(jsLogProbs([0, NEG, NEG], [NEG, 0, 0])).toBeCloseTo(Math.LN2, 14);
    expect(jsLogProbs([0.2, -1, 3], [0.2, -1, 3])).toBe(0);
  });

  it('divergenceRows equals the per-row functions', () => {
    const lp = [0, -1, -2, 1, 1, NEG];
    const lq = [-1, 0, 0, 0, 2, 0];
    const { kl, js } = divergenceRows(Float32Array.from(lp), Float32Array.from(lq), 3);
    expect(kl[0]).toBeCloseTo(klLogProbs(lp.slice(0, 3), lq.slice(0, 3)), 6);
    expect(kl[1]).toBeCloseTo(klLogProbs(lp.slice(3), lq.slice(3)), 6);
    expect(js[1]).toBeCloseTo(jsLogProbs(lp.slice(3), lq.slice(3)), 6);
    expect(() => divergenceRows(lp, lq.slice(1), 3)).toThrow(/divergenceRows/);
  });
});

describe('bootstrap', () => {
  it('CI of a constant is the constant', async () => {
    const ci = await bootstrapMean(new Float64Array(30).fill(2.5), { seed: 1, replicates: 200 });
    expect([ci.mean, ci.low, ci.high]).toEqual([2.5, 2.5, 2.5]);
  });

  it('covers the true mean of normal data ~95 % of the time (fixed seed)', async () => {
    const rng = new Rng('coverage');
    let hits = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const x = Float64Array.from({ length: 40 }, () => 1 + 2 * rng.normal());
      const ci = await bootstrapMean(x, { seed: t, replicates: 400 });
      expect(ci.low).toBeLessThanOrEqual(ci.mean);
      expect(ci.high).toBeGreaterThanOrEqual(ci.mean);
      if (ci.low <= 1 && 1 <= ci.high) hits++;
    }
    expect(hits / trials).toBeGreaterThan(0.89);
    expect(hits / trials).toBeLessThan(0.98);
  });

  it('is deterministic per seed; the ratio CI brackets the ratio of means', async () => {
    const rng = new Rng(5);
    const num = Float64Array.from({ length: 50 }, () => 10 + rng.normal());
    const den = Float64Array.from({ length: 50 }, () => 2 + 0.1 * rng.normal());
    expect(await bootstrapMean(num, { seed: 'a' })).toEqual(await bootstrapMean(num, { seed: 'a' }));
    const r = await bootstrapRatio(num, den, { seed: 2, replicates: 500 });
    expect(r.mean).toBeCloseTo(num.reduce((a, b) => a + b) / den.reduce((a, b) => a + b), 12);
    expect(r.low).toBeLessThan(r.mean);
    expect(r.high).toBeGreaterThan(r.mean);
    expect(r.low).toBeGreaterThan(4.5);
    expect(r.high).toBeLessThan(5.5);
  });
});

describe('permutation test', () => {
  it('fully separated samples give p = 1/(perms + 1) (no permutation is as extreme)', () => {
    // Paired: only the all-same-sign flips (2 of 2^20) are as extreme.
    const a = Array.from({ length: 20 }, (_, i) => 100 + i);
    const b = Array.from({ length: 20 }, (_, i) => i);
    const r = permutationTest(a, b, { permutations: 999, seed: 1 });
    expect(r.pValue).toBe(1 / 1000);
    expect(r.statistic).toBe(100);
    const rp = permutationTest(a, b, { permutations: 999, seed: 1, paired: true });
    expect(rp.pValue).toBe(1 / 1000);
  });

  it('Monte-Carlo p approaches the exact permutation p (two-sample 2/20, paired 2/16)', () => {
    const two = permutationTest([1, 2, 3], [4, 5, 6], { permutations: 40000, seed: 7 });
    expect(two.pValue).toBeGreaterThan(0.1 - 0.008);
    expect(two.pValue).toBeLessThan(0.1 + 0.008);
    const pr = permutationTest([1, 2, 3, 4], [0, 0, 0, 0], { permutations: 40000, seed: 7, paired: true });
    expect(pr.pValue).toBeGreaterThan(0.125 - 0.008);
    expect(pr.pValue).toBeLessThan(0.125 + 0.008);
    // One-sided: only the identity sign pattern is as large → 1/16.
    const one = permutationTest([1, 2, 3, 4], [0, 0, 0, 0], {
      permutations: 40000,
      seed: 7,
      paired: true,
      alternative: 'greater',
    });
    expect(one.pValue).toBeGreaterThan(0.0625 - 0.006);
    expect(one.pValue).toBeLessThan(0.0625 + 0.006);
  });

  it('identical samples give p = 1; p-values under the null are roughly uniform', () => {
    expect(permutationTest([1, 2, 3], [1, 2, 3], { permutations: 99 }).pValue).toBe(1);
    const rng = new Rng('null');
    let small = 0;
    for (let t = 0; t < 200; t++) {
      const a = Array.from({ length: 15 }, () => rng.normal());
      const b = Array.from({ length: 15 }, () => rng.normal());
      if (permutationTest(a, b, { permutations: 199, seed: t }).pValue <= 0.1) small++;
    }
    expect(small / 200).toBeGreaterThan(0.04);
    expect(small / 200).toBeLessThan(0.17);
  });

  it('validates its inputs', () => {
    expect(() => permutationTest([1], [1, 2], { paired: true })).toThrow(/paired/);
    expect(() => permutationTest([1], [2], { permutations: 0 })).toThrow(/permutations/);
  });
});

describe('effect sizes', () => {
  it('Cohen d and paired d_z on hand-computed cases', () => {
    expect(cohensD([1, 2, 3], [4, 5, 6])).toBeCloseTo(-3, 12);
    // [0,1,2,4]: mean 1.75, Σ(x − m)² = 8.75; pooled variance (2 + 8.75) / 5 = 2.15.
    expect(cohensD([1, 2, 3], [0, 1, 2, 4])).toBeCloseTo(0.25 / Math.sqrt(2.15), 12);
    expect(pairedD([1, 2, 3], [0, 0, 0])).toBeCloseTo(2, 12);
  });

  it('rank-biserial: separated samples give ±1, hand-counted pairs otherwise', () => {
    expect(rankBiserial([5, 6, 7], [1, 2])).toBe(1);
    expect(rankBiserial([1, 2], [5, 6, 7])).toBe(-1);
    expect(rankBiserial([1, 2, 3], [2.5, 0])).toBeCloseTo(1 / 3, 12);
    expect(rankBiserial([1, 2], [2, 1])).toBe(0); // ties count ½ each way
  });

  it('matched-pairs rank-biserial (Kerby) with ties and zero differences', () => {
    expect(pairedRankBiserial([1, 2, 3, 4], [0, 0, 0, 10])).toBeCloseTo(0.2, 12); // R+ 6, R− 4
    // |d| = [1, 1, 2] → ranks 1.5, 1.5, 3; d = [+1, −1, +2] → (4.5 − 1.5) / 6; the zero diff is dropped.
    expect(pairedRankBiserial([1, 0, 2, 5], [0, 1, 0, 5])).toBeCloseTo(0.5, 12);
    expect(pairedRankBiserial([1, 2], [1, 2])).toBe(0);
  });

  it('compare bundles the test with the matching effect sizes', () => {
    const c = compare([1, 2, 3], [0, 0, 0], { paired: true, permutations: 99 });
    expect(c.cohensD).toBeCloseTo(2, 12);
    expect(c.rankBiserial).toBe(1);
    expect(c.n).toEqual([3, 3]);
  });
});

describe('gridDivergence', () => {
  it('averages per grid and per position, splits by mask, counts infinite positions', () => {
    // 2 grids × 2 positions × V = 2. Bernoulli rows; probe row 3 puts zero mass on a truth outcome.
    const truth = [bern(0.5), bern(0.5), bern(0.2), bern(0.9)].flat();
    const probe = [bern(0.5), bern(0.1), bern(0.4), [0, NEG]].flat();
    const kl = (p: number, q: number) => klLogProbs(bern(p), bern(q));
    const d = gridDivergence(
      Float32Array.from(truth),
      Float32Array.from(probe),
      2,
      2,
      2,
      Uint8Array.of(0, 1, 1, 0),
    );
    expect(d.kl[0]).toBeCloseTo((0 + kl(0.5, 0.1)) / 2, 6);
    expect(d.kl[1]).toBe(Number.POSITIVE_INFINITY);
    expect(d.infinite).toBe(1);
    expect(d.klByPosition[0]).toBeCloseTo((0 + kl(0.2, 0.4)) / 2, 6);
    expect(d.split!.fraction).toBe(0.5);
    expect(d.split!.klMasked).toBeCloseTo((kl(0.5, 0.1) + kl(0.2, 0.4)) / 2, 6);
    expect(d.split!.klUnmasked).toBe(Number.POSITIVE_INFINITY);
    expect(gridDivergence(Float32Array.from(truth), Float32Array.from(truth), 2, 2, 2).split).toBeNull();
  });
});
