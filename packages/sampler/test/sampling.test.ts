import { Rng } from '@engram-ar/tensor/rng';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyCfg,
  argmax,
  candidateDistribution,
  logSoftmax,
  sampleLogits,
  topIndices,
} from '../src/sampling.js';

const logitsArb = (min = 1, max = 40) =>
  fc
    .array(fc.float({ min: -8, max: 8, noNaN: true, noDefaultInfinity: true }), {
      minLength: min,
      maxLength: max,
    })
    .map((a) => Float32Array.from(a));

// Brute-force reference: full sort, softmax at temperature, top-k cut, renormalise, top-p cut.
function reference(logits: Float32Array, t: number, k: number, p: number): Map<number, number> {
  const idx = [...logits.keys()].sort((a, b) => logits[b] - logits[a] || a - b);
  const kept = idx.slice(0, k > 0 ? Math.min(k, idx.length) : idx.length);
  const w = kept.map((i) => Math.exp((logits[i] - logits[kept[0]]) / t));
  const z = w.reduce((a, b) => a + b, 0);
  const probs = w.map((x) => x / z);
  let n = probs.length;
  for (let i = 0, cum = 0; i < probs.length; i++) {
    cum += probs[i];
    if (cum >= p - 1e-12) {
      n = i + 1;
      break;
    }
  }
  const zz = probs.slice(0, n).reduce((a, b) => a + b, 0);
  return new Map(kept.slice(0, n).map((c, i) => [c, probs[i] / zz]));
}

describe('sampling', () => {
  it('topIndices equals a full stable sort prefix', () => {
    fc.assert(
      fc.property(logitsArb(), fc.integer({ min: 1, max: 50 }), (x, k) => {
        const want = [...x.keys()].sort((a, b) => x[b] - x[a] || a - b).slice(0, Math.min(k, x.length));
        expect([...topIndices(x, 0, x.length, Math.min(k, x.length))]).toEqual(want);
      }),
    );
  });

  it('candidateDistribution matches the brute-force temperature/top-k/top-p reference', () => {
    fc.assert(
      fc.property(
        logitsArb(),
        fc.double({ min: 0.2, max: 3, noNaN: true }),
        fc.integer({ min: 0, max: 45 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (x, t, k, p) => {
          const { codes, probs } = candidateDistribution(x, { temperature: t, topK: k, topP: p });
          const ref = reference(x, t, k, p);
          expect(codes.length).toBe(ref.size);
          codes.forEach((c, i) => {
            expect(probs[i]).toBeCloseTo(ref.get(c) ?? Number.NaN, 10);
          });
        },
      ),
    );
  });

  it('top-p keeps the smallest prefix with mass ≥ p', () => {
    fc.assert(
      fc.property(logitsArb(2), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (x, p) => {
        const full = candidateDistribution(x, {});
        const kept = candidateDistribution(x, { topP: p }).codes.length;
        const mass = (n: number) => full.probs.slice(0, n).reduce((a, b) => a + b, 0);
        expect(mass(kept)).toBeGreaterThanOrEqual(p - 1e-9);
        if (kept > 1) expect(mass(kept - 1)).toBeLessThan(p + 1e-9);
      }),
    );
  });

  it('top-k = 1 and temperature 0 are argmax, whatever the draw', () => {
    fc.assert(
      fc.property(logitsArb(), fc.double({ min: 0, max: 0.999999, noNaN: true }), (x, u) => {
        const src = { uniform: () => u };
        const want = [...x.keys()].reduce((b, i) => (x[i] > x[b] ? i : b), 0);
        expect(sampleLogits(x, { topK: 1 }, src)).toBe(want);
        expect(sampleLogits(x, { temperature: 0 }, src)).toBe(want);
        expect(argmax(x)).toBe(want);
      }),
    );
  });

  it('applyCfg is uncond + s·(cond − uncond)', () => {
    fc.assert(
      fc.property(
        logitsArb(5, 5),
        logitsArb(5, 5),
        fc.double({ min: -2, max: 8, noNaN: true }),
        (c, u, s) => {
          const out = applyCfg(c, u, s);
          for (let i = 0; i < 5; i++) expect(out[i]).toBeCloseTo(u[i] + s * (c[i] - u[i]), 4);
        },
      ),
    );
    const c = Float32Array.of(1, 2);
    const u = Float32Array.of(3, -1);
    expect([...applyCfg(c, u, 1)]).toEqual([1, 2]);
    expect([...applyCfg(c, u, 0)]).toEqual([3, -1]);
  });

  it('logSoftmax exponentiates to a distribution proportional to exp(x)', () => {
    const x = Float32Array.of(0.5, -1, 2, 2);
    const out = new Float32Array(4);
    logSoftmax(x, 0, 4, out);
    const z = [...x].reduce((a, v) => a + Math.exp(v), 0);
    out.forEach((v, i) => {
      expect(v).toBeCloseTo(x[i] - Math.log(z), 6);
    });
  });

  // Chi-square goodness of fit on a fixed seed: with 7 degrees of freedom the 0.999 quantile is 24.3.
  it.each([
    ['fast path', {}],
    ['sorted path (top-k = V)', { topK: 8, topP: 1 }],
    ['top-k + top-p + temperature', { temperature: 0.7, topK: 6, topP: 0.9 }],
  ])('draws follow the target distribution (%s)', (_name, opts) => {
    const x = Float32Array.of(0.3, -1.2, 1.5, 0.0, 2.1, -0.4, 0.9, -2.5);
    const { codes, probs } = candidateDistribution(x, opts);
    const rng = new Rng(1234);
    const n = 40000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const c = sampleLogits(x, opts, rng);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    let chi2 = 0;
    codes.forEach((c, i) => {
      const e = n * probs[i];
      chi2 += ((counts.get(c) ?? 0) - e) ** 2 / e;
    });
    const outside = [...counts.keys()].filter((c) => !codes.includes(c));
    expect(outside).toEqual([]);
    expect(chi2).toBeLessThan(24.3);
  });

  it('rejects bad options naming the field', () => {
    const x = Float32Array.of(1, 2);
    const src = { uniform: () => 0.5 };
    expect(() => sampleLogits(x, { topP: 0 }, src)).toThrow(/topP/);
    expect(() => sampleLogits(x, { topK: -1 }, src)).toThrow(/topK/);
    expect(() => sampleLogits(x, { temperature: -1 }, src)).toThrow(/temperature/);
  });
});
