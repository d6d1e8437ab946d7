import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, type RngState } from '../src/rng.js';

interface GoldenCase {
  state: [number, number, number, number];
  outputs: number[];
  final: [number, number, number, number];
}
const golden = JSON.parse(readFileSync(new URL('./golden/xoshiro128ss.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};

function draws(r: Rng, n: number): number[] {
  return Array.from({ length: n }, () => r.nextU32());
}

function moments(xs: Float64Array): { mean: number; variance: number; skew: number; kurt: number } {
  const n = xs.length;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurt: m4 / (m2 * m2) };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('Rng', () => {
  it('matches the reference xoshiro128** outputs (python golden)', () => {
    for (const c of golden.cases) {
      const r = Rng.fromState({ s: c.state, spare: null });
      expect(draws(r, c.outputs.length)).toEqual(c.outputs);
      expect(r.state().s).toEqual(c.final);
    }
  });

  it('is deterministic per seed and distinguishes seeds (including 1 vs "1")', () => {
    expect(draws(new Rng(42), 8)).toEqual(draws(new Rng(42), 8));
    expect(draws(new Rng('abc'), 8)).toEqual(draws(new Rng('abc'), 8));
    const seeds: (number | string)[] = [0, 1, -1, 2, 0.5, 2 ** 40, '1', '', 'a', 'b'];
    const firsts = new Set(seeds.map((s) => draws(new Rng(s), 2).join(',')));
    expect(firsts.size).toBe(seeds.length);
  });

  it('rejects non-finite seeds', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });

  it('state() is JSON-serialisable and fromState resumes exactly (incl. cached normal)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), fc.nat(50), (seed, k) => {
        const a = new Rng(seed);
        for (let i = 0; i < k; i++) a.normal(); // odd k leaves a cached spare
        const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())) as RngState);
        const xa = [a.normal(), a.uniform(), a.nextU32(), a.int(1000), a.normal()];
        const xb = [b.normal(), b.uniform(), b.nextU32(), b.int(1000), b.normal()];
        expect(xb).toEqual(xa);
      }),
      { numRuns: 100 },
    );
  });

  it('fromState validates its input', () => {
    expect(() => Rng.fromState({ s: [0, 0, 0, 0], spare: null })).toThrow(/not all zero/);
    expect(() => Rng.fromState({ s: [1, 2, 3, -1], spare: null } as RngState)).toThrow(/unsigned/);
    expect(() => Rng.fromState({ s: [1, 2, 3], spare: null } as unknown as RngState)).toThrow(/4 unsigned/);
    expect(() => Rng.fromState({ s: [1, 2, 3, 4], spare: Number.NaN })).toThrow(/spare/);
  });

  it('split is pure in (state, label), does not advance the parent, and children differ', () => {
    const p = new Rng(7);
    const before = p.state();
    const a1 = draws(p.split('a'), 16);
    const a2 = draws(p.split('a'), 16);
    expect(p.state()).toEqual(before);
    expect(a2).toEqual(a1);
    const b = draws(p.split('b'), 16);
    const n = draws(p.split(0), 16);
    const parent = draws(Rng.fromState(before), 16);
    expect(new Set([a1, b, n, parent].map((x) => x.join(','))).size).toBe(4);
    p.nextU32();
    expect(draws(p.split('a'), 16)).not.toEqual(a1);
    // a number label and its string form are different labels
    expect(draws(new Rng(7).split(1), 4)).not.toEqual(draws(new Rng(7).split('1'), 4));
  });

  it('split children are uncorrelated with each other and with the parent', () => {
    const p = new Rng('corr');
    const n = 20000;
    const streams = [p.split('x'), p.split('y'), p.split(3), Rng.fromState(p.state())].map((r) =>
      Array.from({ length: n }, () => r.uniform()),
    );
    const bound = 5 / Math.sqrt(n); // 5 sigma under independence
    for (let i = 0; i < streams.length; i++) {
      for (let j = i + 1; j < streams.length; j++) {
        expect(Math.abs(pearson(streams[i]!, streams[j]!))).toBeLessThan(bound);
      }
    }
  });

  it('uniform() has the moments of U[0,1) and stays in range', () => {
    const r = new Rng(1);
    const n = 200000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = r.uniform();
    expect(xs.reduce((a, b) => Math.min(a, b), 1)).toBeGreaterThanOrEqual(0);
    expect(xs.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(1);
    const m = moments(xs);
    // sd of the sample mean is sqrt(1/12/n); of the sample variance sqrt((1/80 - 1/144)/n)
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });

  it('normal() has mean 0, variance 1, skew 0, kurtosis 3', () => {
    const r = new Rng(2);
    const n = 200000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = r.normal();
    const m = moments(xs);
    expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m.skew)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m.kurt - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
  });

  it('fillNormal applies mean and std', () => {
    const out = new Rng(3).fillNormal(new Float32Array(100000), 2, 0.5);
    const m = moments(Float64Array.from(out));
    expect(Math.abs(m.mean - 2)).toBeLessThan(5 * 0.5 * Math.sqrt(1 / out.length));
    expect(Math.abs(m.variance - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / out.length));
  });

  it('int(n) is uniform on [0, n) (chi-square) and validates n', () => {
    const r = new Rng(4);
    const k = 7;
    const n = 70000;
    const counts = new Array(k).fill(0);
    for (let i = 0; i < n; i++) counts[r.int(k)]++;
    const e = n / k;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(22.46); // chi2(6) 0.999 quantile
    expect(r.int(1)).toBe(0);
    const big = r.int(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
    expect(() => r.int(0)).toThrow(/n must be/);
    expect(() => r.int(2.5)).toThrow(/n must be/);
  });

  it('permutation and shuffle produce permutations, uniformly over positions', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(40), (seed, n) => {
        const p = new Rng(seed).permutation(n);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const arr = Array.from({ length: n }, (_, i) => `v${i}`);
        const s = new Rng(seed).shuffle(arr.slice());
        expect(s.slice().sort()).toEqual(arr.slice().sort());
      }),
    );
    // where element 0 lands: uniform over 5 positions
    const r = new Rng(5);
    const counts = new Array(5).fill(0);
    const trials = 20000;
    for (let t = 0; t < trials; t++) counts[r.permutation(5).indexOf(0)]++;
    const e = trials / 5;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(18.47); // chi2(4) 0.999 quantile
  });
});
