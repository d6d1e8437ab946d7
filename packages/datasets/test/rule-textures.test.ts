import { describe, expect, it } from 'vitest';
import {
  type CodeGridDataset,
  classCounts,
  loadDataset,
  makeRuleTextures,
  ruleAgreement,
} from '../src/index.js';

/** Agreement count re-derived here from the definition (L = left, U = up, pad = vocab). */
function countAgreement(ds: CodeGridDataset): { agree: number; total: number } {
  const { vocab: V, height: H, width: W } = ds;
  const at = (i: number, r: number, c: number) => (r < 0 || c < 0 ? V : ds.codes[i * H * W + r * W + c]!);
  let agree = 0;
  for (let i = 0; i < ds.labels.length; i++) {
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const rule = ds.rules[ds.labels[i]! * (V + 1) ** 2 + at(i, r, c - 1) * (V + 1) + at(i, r - 1, c)];
        if (at(i, r, c) === rule) agree++;
      }
    }
  }
  return { agree, total: ds.labels.length * H * W };
}

describe('rule textures', () => {
  for (const [epsilon, vocab] of [
    [0, 16],
    [0.1, 16],
    [0.5, 5],
    [1, 8],
  ] as const) {
    it(`agreement rate ≈ 1 − ε(1 − 1/V) within a binomial 4.5σ band (ε=${epsilon}, V=${vocab})`, () => {
      const t = makeRuleTextures({ seed: 11, epsilon, vocab, trainCount: 1500, testCount: 10 });
      const { agree, total } = countAgreement(t.train);
      expect(ruleAgreement(t.train)).toEqual({ agree, total });
      expect(total).toBe(1500 * 64);
      const p = 1 - epsilon * (1 - 1 / vocab);
      // Each cell agrees with probability p whatever its past (fresh coin per cell), so the count is Binomial(total, p).
      const sigma = Math.sqrt(total * p * (1 - p));
      expect(Math.abs(agree - total * p)).toBeLessThanOrEqual(4.5 * sigma);
      if (epsilon === 0) expect(agree).toBe(total);
    });
  }

  it('the modal code of each frequent (class, L, U) context is the rule', () => {
    const t = makeRuleTextures({ seed: 3, epsilon: 0.3, vocab: 6, numClasses: 4, trainCount: 2000 });
    const { vocab: V, height: H, width: W } = t.train;
    const counts = new Map<number, Int32Array>();
    for (let i = 0; i < t.train.labels.length; i++) {
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          const l = c ? t.train.codes[i * H * W + r * W + c - 1]! : V;
          const u = r ? t.train.codes[i * H * W + (r - 1) * W + c]! : V;
          const key = (t.train.labels[i]! * (V + 1) + l) * (V + 1) + u;
          if (!counts.has(key)) counts.set(key, new Int32Array(V));
          counts.get(key)![t.train.codes[i * H * W + r * W + c]!]!++;
        }
      }
    }
    let checked = 0;
    for (const [key, hist] of counts) {
      if (hist.reduce((a, b) => a + b, 0) < 30) continue;
      expect(hist.indexOf(Math.max(...hist))).toBe(t.train.rules[key]);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('is deterministic by seed; train/test share rules; trainCount does not change the test set', () => {
    const a = makeRuleTextures({ seed: 'x', trainCount: 50, testCount: 20 });
    const b = makeRuleTextures({ seed: 'x', trainCount: 50, testCount: 20 });
    const c = makeRuleTextures({ seed: 'y', trainCount: 50, testCount: 20 });
    const d = makeRuleTextures({ seed: 'x', trainCount: 80, testCount: 20 });
    expect(b.train.codes).toEqual(a.train.codes);
    expect(b.train.labels).toEqual(a.train.labels);
    expect(Buffer.compare(b.train.rendered.images, a.train.rendered.images)).toBe(0);
    expect(c.train.codes).not.toEqual(a.train.codes);
    expect(c.train.rules).not.toEqual(a.train.rules);
    expect(a.test.rules).toBe(a.train.rules);
    expect(a.test.codes).not.toEqual(a.train.codes.subarray(0, a.test.codes.length));
    expect(d.test.codes).toEqual(a.test.codes);
    expect(d.train.rules).toEqual(a.train.rules);
  });

  it('labels are balanced (class counts differ by at most one)', () => {
    for (const [n, k] of [
      [2000, 10],
      [23, 4],
      [7, 7],
    ] as const) {
      const t = makeRuleTextures({ seed: 2, trainCount: n, numClasses: k, testCount: 0 });
      const counts = Array.from(classCounts(t.train.labels, k));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(counts.reduce((x, y) => x + y, 0)).toBe(n);
    }
  });

  it('renders each cell as its code’s patch, patches are distinct, and images decode back to codes', () => {
    for (const channels of [1, 3] as const) {
      const t = makeRuleTextures({
        seed: 5,
        vocab: 12,
        height: 5,
        width: 7,
        patchSize: 3,
        channels,
        trainCount: 9,
      });
      const { rendered, codes } = t.train;
      const p = 3;
      const size = p * p * channels;
      expect([rendered.height, rendered.width, rendered.channels]).toEqual([15, 21, channels]);
      const keys = new Map<string, number>();
      for (let v = 0; v < 12; v++) keys.set(t.patterns.subarray(v * size, (v + 1) * size).join(','), v);
      expect(keys.size).toBe(12);
      for (let i = 0; i < 9; i++) {
        for (let r = 0; r < 5; r++) {
          for (let c = 0; c < 7; c++) {
            const patch: number[] = [];
            for (let y = 0; y < p; y++) {
              for (let x = 0; x < p; x++) {
                for (let ch = 0; ch < channels; ch++) {
                  patch.push(rendered.images[((i * 15 + r * p + y) * 21 + c * p + x) * channels + ch]!);
                }
              }
            }
            expect(keys.get(patch.join(','))).toBe(codes[(i * 5 + r) * 7 + c]);
          }
        }
      }
    }
  });

  it('validates the config, naming the field', () => {
    expect(() => makeRuleTextures({ epsilon: 1.5 })).toThrow(/config\.epsilon/);
    expect(() => makeRuleTextures({ vocab: 1 })).toThrow(/config\.vocab/);
    expect(() => makeRuleTextures({ vocab: 64, patchSize: 1 })).toThrow(/config\.patchSize 1 .* too small/);
  });

  it('loadDataset returns the rendered images', async () => {
    const { train, test } = await loadDataset({
      name: 'rule-textures',
      trainCount: 30,
      testCount: 10,
      seed: 4,
    });
    const t = makeRuleTextures({ trainCount: 30, testCount: 10, seed: 4 });
    expect([train.labels.length, test.labels.length, train.height, train.width]).toEqual([30, 10, 32, 32]);
    expect(Buffer.compare(train.images, t.train.rendered.images)).toBe(0);
    await expect(loadDataset({ name: 'rule-textures', epsilon: -1 })).rejects.toThrow(/spec\.epsilon/);
  });
});
