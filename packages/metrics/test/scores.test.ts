import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import { bootstrapInterval, isInterval, percentile } from '../src/bootstrap.js';
import { classConsistency, inceptionScore, inceptionScoreFromProbs } from '../src/is.js';
import { precisionRecall } from '../src/prd.js';

describe('Inception Score', () => {
  it('equals C for confident, class-balanced predictions and 1 for identical ones', () => {
    const c = 5;
    const n = 100; // 10 per split, each split class-balanced
    const onehot = new Float64Array(n * c);
    for (let i = 0; i < n; i++) onehot[i * c + (i % c)] = 1;
    const r = inceptionScoreFromProbs(onehot, c);
    expect(r.mean).toBeCloseTo(c, 12);
    expect(r.std).toBeCloseTo(0, 12);
    const same = new Float64Array(n * c).fill(1 / c);
    expect(inceptionScoreFromProbs(same, c).mean).toBeCloseTo(1, 12);
  });

  it('matches the closed form for smoothed one-hot predictions', () => {
    const c = 4;
    const a = 0.3;
    const n = 40;
    const p = new Float64Array(n * c).fill(a / c);
    for (let i = 0; i < n; i++) p[i * c + (i % c)] = 1 - a + a / c;
    const hi = 1 - a + a / c;
    const kl = hi * Math.log(hi * c) + (c - 1) * (a / c) * Math.log(a);
    expect(inceptionScoreFromProbs(p, c).mean).toBeCloseTo(Math.exp(kl), 12);
    // the same through logits: log-probabilities are valid logits
    expect(inceptionScore(p.map(Math.log), c).mean).toBeCloseTo(Math.exp(kl), 12);
  });

  it('uses 10 consecutive splits', () => {
    // first half confident and balanced (IS 2 per split), second half uniform (IS 1)
    const n = 20;
    const p = new Float64Array(n * 2).fill(0.5);
    for (let i = 0; i < 10; i++) {
      p[i * 2] = i % 2;
      p[i * 2 + 1] = 1 - (i % 2);
    }
    const r = inceptionScoreFromProbs(p, 2);
    expect(Array.from(r.splitScores).map((v) => Number(v.toFixed(12)))).toEqual([
      2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
    ]);
    expect(r.mean).toBeCloseTo(1.5, 12);
    expect(r.std).toBeCloseTo(0.5, 12);
  });

  it('class consistency counts arg-max hits', () => {
    const logits = Float32Array.of(0, 1, 2, 5, 0, 0, 0, 3, 1);
    expect(classConsistency(logits, 3, Int32Array.of(2, 0, 2))).toBeCloseTo(2 / 3, 12);
  });
});

/** Brute-force precision/recall, straight from the paper's definition. */
function naivePr(real: number[][], fake: number[][], k: number): [number, number] {
  const d = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
  const radii = (set: number[][]) =>
    set.map(
      (p, i) =>
        set
          .filter((_, j) => j !== i)
          .map((q) => d(p, q))
          .sort((a, b) => a - b)[k - 1]!,
    );
  const rr = radii(real);
  const fr = radii(fake);
  const prec = fake.filter((f) => real.some((r, j) => d(f, r) <= rr[j]!)).length / fake.length;
  const rec = real.filter((r) => fake.some((f, j) => d(r, f) <= fr[j]!)).length / real.length;
  return [prec, rec];
}

describe('precision / recall (k = 3)', () => {
  it('constructed sets: half the fakes on the real manifold, fakes cover the reals', async () => {
    // reals on a line x = 0..9 (k=3 radius 2 inside, 3 at the ends); fakes: 4 near the line, 4 far away
    const real = Array.from({ length: 10 }, (_, i) => [i, 0]);
    const fake = [
      [2.5, 0.5],
      [4, 1.5],
      [6, -1],
      [8.5, 0],
      [50, 50],
      [51, 50],
      [50, 51],
      [51, 51],
    ];
    const r = await precisionRecall(Float64Array.from(real.flat()), Float64Array.from(fake.flat()), 2, {
      engine: 'ts',
    });
    expect(r.precision).toBe(0.5);
    expect([r.precision, r.recall]).toEqual(naivePr(real, fake, 3));
  });

  it('agrees with the brute-force definition on random sets (both engines)', async () => {
    const rng = new Rng(11);
    const real = Array.from({ length: 60 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const fake = Array.from({ length: 45 }, () => [
      rng.normal() * 1.5 + 0.5,
      rng.normal(),
      rng.normal() * 0.5,
    ]);
    const want = naivePr(real, fake, 3);
    for (const engine of ['ts', 'onnx'] as const) {
      const r = await precisionRecall(Float32Array.from(real.flat()), Float32Array.from(fake.flat()), 3, {
        engine,
        blockRows: 16,
      });
      expect([r.precision, r.recall]).toEqual(want);
    }
    expect(want[0]).toBeGreaterThan(0.2);
    expect(want[0]).toBeLessThan(1);
  });
});

describe('bootstrap', () => {
  it('percentile interpolates linearly like numpy', () => {
    const x = Float64Array.of(4, 1, 3, 2, 5);
    expect(percentile(x, 50)).toBe(3);
    expect(percentile(x, 2.5)).toBeCloseTo(1.1, 12);
    expect(percentile(x, 97.5)).toBeCloseTo(4.9, 12);
  });

  it('CI of a sample mean covers ±1.96 σ/√n and is seeded', async () => {
    const rng = new Rng(3);
    const n = 400;
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const mean = (idx: Int32Array) => idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
    const ci = await bootstrapInterval(n, mean, { replicates: 400, seed: 1, method: 'percentile' });
    const half = (ci.high - ci.low) / 2;
    expect(half).toBeGreaterThan(0.8 * (1.96 / Math.sqrt(n)));
    expect(half).toBeLessThan(1.2 * (1.96 / Math.sqrt(n)));
    expect(await bootstrapInterval(n, mean, { replicates: 400, seed: 1, method: 'percentile' })).toEqual(ci);
    // the mean is unbiased: the correction only moves the interval by the (small) bias estimate
    const bc = await bootstrapInterval(n, mean, { replicates: 400, seed: 1 });
    expect(Math.abs(bc.bias)).toBeLessThan(0.2 / Math.sqrt(n));
    expect(bc.low).toBeCloseTo(ci.low - bc.bias, 12);
  });

  it('bias correction re-centres a biased statistic (number of distinct rows)', async () => {
    // a resample holds ≈ (1 − 1/e)·n distinct rows, the full set n: bias ≈ −n/e
    const n = 1000;
    const distinct = (idx: Int32Array) => new Set(idx).size;
    const raw = await bootstrapInterval(n, distinct, { replicates: 100, seed: 2, method: 'percentile' });
    const bc = await bootstrapInterval(n, distinct, { replicates: 100, seed: 2 });
    expect(raw.high).toBeLessThan(n);
    expect(bc.bias).toBeCloseTo(-n / Math.E, -1);
    expect(bc.low).toBeLessThan(n);
    expect(bc.high).toBeGreaterThan(n);
  });

  it('IS interval brackets the point estimate', async () => {
    const rng = new Rng(4);
    const logits = Float64Array.from({ length: 500 * 6 }, () => rng.normal() * 2);
    const is = inceptionScore(logits, 6).mean;
    const ci = await isInterval(logits, 6, { replicates: 60, seed: 2 });
    expect(ci.low).toBeLessThan(is * 1.02);
    expect(ci.high).toBeGreaterThan(is * 0.98);
    expect(ci.high).toBeGreaterThan(ci.low);
  });
});
