import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import { type NamedTensor, readSafetensors, writeSafetensors } from '@engram-ar/tensor/safetensors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotRows } from '../src/linalg.js';
import { onnxEngine, splitF32 } from '../src/matmul.js';
import { computeStats, FeatureStats, loadReference, saveReference } from '../src/stats.js';

/** Two-pass float64 mean and co-moment: the textbook definition, as a second implementation. */
function naiveStats(x: Float64Array, dim: number): { mean: Float64Array; m2: Float64Array } {
  const n = x.length / dim;
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x[i * dim + j]! / n;
  const m2 = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dim; a++)
      for (let b = 0; b < dim; b++)
        m2[a * dim + b]! += (x[i * dim + a]! - mean[a]!) * (x[i * dim + b]! - mean[b]!);
  return { mean, m2 };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function randomFeatures(seed: number, n: number, dim: number, offset = 3): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * dim }, (_, i) => rng.normal() * (1 + (i % dim)) + offset);
}

describe('FeatureStats', () => {
  it('merging shards (any split, any batch size) equals the whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 16 }),
        async (seed, n, dim, cutsRaw, batchRows) => {
          const x = randomFeatures(seed, n, dim);
          const whole = naiveStats(x, dim);
          const cuts = [...new Set([0, ...cutsRaw.map((c) => c % (n + 1)), n])].sort((a, b) => a - b);
          let acc = FeatureStats.empty(dim);
          for (let i = 0; i + 1 < cuts.length; i++) {
            const part = x.subarray(cuts[i]! * dim, cuts[i + 1]! * dim);
            acc = acc.merge(await computeStats(part, dim, { engine: 'ts', batchRows }));
          }
          expect(acc.count).toBe(n);
          const scale = Math.max(...whole.m2.map(Math.abs));
          expect(maxAbsDiff(acc.mean, whole.mean)).toBeLessThan(1e-12 * 10);
          expect(maxAbsDiff(acc.comoment, whole.m2)).toBeLessThan(1e-12 * scale);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('covariance is the unbiased numpy.cov', async () => {
    // x = [[1, 2], [3, 6], [5, 7]]: np.cov(x, rowvar=False) = [[4, 5], [5, 7]]
    const s = await computeStats(Float64Array.of(1, 2, 3, 6, 5, 7), 2, { engine: 'ts' });
    expect(Array.from(s.covariance())).toEqual([4, 5, 5, 7]);
    expect(Array.from(s.mean)).toEqual([3, 5]);
  });

  it('names the NaN feature', async () => {
    const x = Float32Array.of(1, 2, 3, Number.NaN);
    await expect(computeStats(x, 2, { engine: 'ts' })).rejects.toThrow(/features\[1, 1\] is NaN/);
  });

  it('ONNX Runtime engine agrees with the TS engine to ~1e-13', async () => {
    const x = randomFeatures(4, 300, 37);
    const a = await computeStats(x, 37, { engine: 'ts', batchRows: 128 });
    const b = await computeStats(x, 37, { engine: await onnxEngine(), batchRows: 128 });
    const scale = Math.max(...a.comoment.map(Math.abs));
    expect(maxAbsDiff(a.comoment, b.comoment)).toBeLessThan(1e-13 * scale);
    expect(maxAbsDiff(a.mean, b.mean)).toBe(0);
  });

  it('hi/lo float32 split (how float64 crosses the ONNX graph boundary) keeps 48 bits', () => {
    const x = Float64Array.of(Math.PI, -1e-7 / 3, 12345.678901234567, 0);
    const { hi, lo } = splitF32(x);
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(hi[i]! + lo[i]! - x[i]!)).toBeLessThanOrEqual(Math.abs(x[i]!) * 2 ** -47);
  });

  it('reference statistics round-trip bit-exactly through .safetensors as F64 tensors', async () => {
    const x = randomFeatures(5, 50, 6);
    const stats = await computeStats(x, 6, { engine: 'ts' });
    const path = join(mkdtempSync(join(tmpdir(), 'metrics-')), 'ref.safetensors');
    const features = Float32Array.from(x.subarray(0, 10 * 6));
    await saveReference(path, { stats, features, meta: { dataset: 'unit' } });
    const file = await readSafetensors(path);
    expect(Object.keys(file.tensors).sort()).toEqual(['comoment', 'features', 'mean']);
    expect(file.tensors.mean).toMatchObject({ dtype: 'F64', shape: [6] });
    expect(file.tensors.comoment).toMatchObject({ dtype: 'F64', shape: [6, 6] });
    expect(file.metadata).toMatchObject({ format: 'engram-ar-metrics-reference/2', count: '50', dim: '6' });
    const back = await loadReference(path);
    expect(back.stats.count).toBe(50);
    expect(back.meta).toEqual({ dataset: 'unit' });
    expect(back.stats.mean).toEqual(stats.mean);
    expect(back.stats.comoment).toEqual(stats.comoment);
    expect(Array.from(back.features!)).toEqual(Array.from(features));
  });

  it('still reads format /1 files (float64 stored as float32 hi + lo pairs) to 2⁻⁴⁷ relative', async () => {
    const stats = await computeStats(randomFeatures(6, 40, 5), 5, { engine: 'ts' });
    const path = join(mkdtempSync(join(tmpdir(), 'metrics-')), 'ref-v1.safetensors');
    const pair = (name: string, v: Float64Array, shape: number[]) => {
      const { hi, lo } = splitF32(v);
      return {
        [`${name}_hi`]: { dtype: 'F32' as const, shape, data: hi },
        [`${name}_lo`]: { dtype: 'F32' as const, shape, data: lo },
      };
    };
    await writeSafetensors(
      path,
      { ...pair('mean', stats.mean, [5]), ...pair('comoment', stats.comoment, [5, 5]) },
      { format: 'engram-ar-metrics-reference/1', count: '40', dim: '5', dataset: 'old' },
    );
    const back = await loadReference(path);
    expect(back.meta).toEqual({ dataset: 'old' });
    expect(back.stats.count).toBe(40);
    expect(back.features).toBeUndefined();
    const rel = (a: Float64Array, b: Float64Array) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!) / Math.max(Math.abs(b[i]!), 1e-300)));
    expect(rel(back.stats.mean, stats.mean)).toBeLessThanOrEqual(2 ** -47);
    expect(rel(back.stats.comoment, stats.comoment)).toBeLessThanOrEqual(2 ** -47);
    expect(back.stats.mean).not.toEqual(stats.mean); // really went through float32 pairs, unlike format /2
  });

  it('reference files with a wrong format or a missing/mistyped tensor are refused, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    const meta = { format: 'engram-ar-metrics-reference/2', count: '3', dim: '2' };
    const mean = { dtype: 'F64' as const, shape: [2], data: new Float64Array(2) };
    const comoment = { dtype: 'F64' as const, shape: [2, 2], data: new Float64Array(4) };
    const write = async (name: string, tensors: Record<string, NamedTensor>, m: Record<string, string>) => {
      const p = join(dir, name);
      await writeSafetensors(p, tensors, m);
      return p;
    };
    await expect(
      loadReference(await write('a.safetensors', { mean, comoment }, meta)),
    ).resolves.toBeDefined();
    await expect(
      loadReference(await write('b.safetensors', { mean, comoment }, { ...meta, format: 'other' })),
    ).rejects.toThrow(/metadata.format is 'other', expected 'engram-ar-metrics-reference\/2'/);
    await expect(loadReference(await write('c.safetensors', { mean }, meta))).rejects.toThrow(
      /c\.safetensors: missing F64 tensor 'comoment'/,
    );
    const f32Mean = { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
    await expect(
      loadReference(await write('d.safetensors', { mean: f32Mean, comoment }, meta)),
    ).rejects.toThrow(/missing F64 tensor 'mean'/);
    await expect(
      loadReference(await write('e.safetensors', { mean, comoment }, { ...meta, dim: '3' })),
    ).rejects.toThrow(/'mean' has 2 values, expected 3/);
  });

  it('dotRows with triangular start hint equals the full product', () => {
    const rng = new Rng(8);
    const m = 9;
    const k = 11;
    const x = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let j = i; j < k; j++) x[i * k + j] = rng.normal();
    const y = Float64Array.from({ length: 7 * k }, () => rng.normal());
    const start = Int32Array.from({ length: m }, (_, i) => i);
    expect(maxAbsDiff(dotRows(x, m, y, 7, k, { start }), dotRows(x, m, y, 7, k))).toBeLessThan(1e-14);
  });
});
