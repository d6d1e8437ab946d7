import { initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../src/config.js';
import { groupNorm, VQModel } from '../src/model.js';
import { maxAbsDiff } from './reference.js';

describe.each(['wasm', 'cpu'] as const)('VQModel pieces (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, log: () => {} });
  });

  it('quantize picks the highest-cosine code and passes its unit vector forward', () => {
    const cfg = presetConfig('quickstart');
    const m = VQModel.init(cfg.arch, 'q');
    const { codebookSize: k, codeDim: d } = cfg.arch;
    const rng = new Rng('z');
    const [b, h, w] = [2, 3, 3];
    const ze = rng.fillNormal(new Float32Array(b * h * w * d));
    const cb = m.params.get('quant.codebook')!.dataSync() as Float32Array;
    const q = m.quantize(tf.tensor4d(ze, [b, h, w, d]));
    const codes = q.codes.dataSync();
    const zq = q.zq.dataSync();
    const norm = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return Array.from(v, (x) => x / n);
    };
    for (let i = 0; i < b * h * w; i++) {
      const z = norm(ze.subarray(i * d, (i + 1) * d));
      let best = -1;
      let bestSim = -Infinity;
      for (let c = 0; c < k; c++) {
        const e = norm(cb.subarray(c * d, (c + 1) * d));
        const sim = e.reduce((s, x, j) => s + x * z[j]!, 0);
        if (sim > bestSim) [best, bestSim] = [c, sim];
      }
      expect(codes[i]).toBe(best);
      const e = norm(cb.subarray(best * d, (best + 1) * d));
      expect(maxAbsDiff(zq.subarray(i * d, (i + 1) * d), e)).toBeLessThan(1e-5);
    }
    // Codebook loss = mean ‖z − e‖² over positions and dims (z, e unit vectors).
    let ref = 0;
    for (let i = 0; i < b * h * w; i++) {
      const z = norm(ze.subarray(i * d, (i + 1) * d));
      const e = norm(cb.subarray(codes[i]! * d, (codes[i]! + 1) * d));
      for (let j = 0; j < d; j++) ref += (z[j]! - e[j]!) ** 2;
    }
    expect(q.codebookLoss.dataSync()[0]).toBeCloseTo(ref / (b * h * w * d), 5);
    m.dispose();
  });

  it('groupNorm matches a float64 loop over (sample, group)', () => {
    const [b, h, w, c, g] = [2, 3, 4, 6, 3];
    const rng = new Rng('gn');
    const x = rng.fillNormal(new Float32Array(b * h * w * c), 1, 2);
    const gamma = rng.fillNormal(new Float32Array(c));
    const beta = rng.fillNormal(new Float32Array(c));
    const y = groupNorm(tf.tensor4d(x, [b, h, w, c]), tf.tensor1d(gamma), tf.tensor1d(beta), g).dataSync();
    const ref = new Float64Array(x.length);
    const cg = c / g;
    for (let n = 0; n < b; n++)
      for (let gi = 0; gi < g; gi++) {
        const idx: number[] = [];
        for (let p = 0; p < h * w; p++)
          for (let j = 0; j < cg; j++) idx.push((n * h * w + p) * c + gi * cg + j);
        const mean = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
        const v = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / idx.length;
        for (const i of idx) ref[i] = ((x[i]! - mean) / Math.sqrt(v + 1e-6)) * gamma[i % c]! + beta[i % c]!;
      }
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
  });

  it('decode(encode(x)) has the image shape and stays in [-1, 1]', () => {
    const cfg = presetConfig('quickstart');
    const m = VQModel.init(cfg.arch, 'rt');
    const x = new Rng('x').fillNormal(new Float32Array(3 * 28 * 28));
    const codes = m.encode(x, 3, 28, 28, 2);
    expect(codes.length).toBe(3 * 49);
    const y = m.decode(codes, 3, 7, 7, 2);
    expect(y.length).toBe(3 * 28 * 28);
    expect(Math.max(...y)).toBeLessThanOrEqual(1);
    expect(Math.min(...y)).toBeGreaterThanOrEqual(-1);
    expect(() => m.decode(Int32Array.of(64), 1, 1, 1)).toThrow(/codes\[0\] = 64 outside \[0, 64\)/);
    m.dispose();
  });
});
