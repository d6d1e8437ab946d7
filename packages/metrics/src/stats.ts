// Mergeable Gaussian statistics of feature vectors: (count, mean, co-moment) with the exact
// pairwise merge of Chan, Golub & LeVeque (1979), so statistics of shards computed anywhere and
// merged equal those of the whole set (up to float64 rounding), and saved reference statistics.
import { type NamedTensor, readSafetensors, writeSafetensors } from '@engram-ar/tensor/safetensors';
import { type EngineName, getEngine, type MatmulEngine } from './matmul.js';

export type Features = Float32Array | Float64Array; // [N, D] row-major

/** count, mean [D] and co-moment M2 = Σ (x - mean)(x - mean)ᵀ [D, D] (full symmetric, row-major). */
export class FeatureStats {
  constructor(
    readonly dim: number,
    readonly count: number,
    readonly mean: Float64Array,
    readonly comoment: Float64Array,
  ) {
    if (mean.length !== dim)
      throw new Error(`FeatureStats: mean has ${mean.length} entries, expected dim = ${dim}`);
    if (comoment.length !== dim * dim) {
      throw new Error(`FeatureStats: comoment has ${comoment.length} entries, expected dim² = ${dim * dim}`);
    }
  }

  static empty(dim: number): FeatureStats {
    return new FeatureStats(dim, 0, new Float64Array(dim), new Float64Array(dim * dim));
  }

  /** Unbiased covariance M2 / (count - 1), as numpy.cov. */
  covariance(): Float64Array {
    if (this.count < 2) throw new Error(`covariance needs at least 2 samples, have ${this.count}`);
    const c = new Float64Array(this.comoment.length);
    const s = 1 / (this.count - 1);
    for (let i = 0; i < c.length; i++) c[i] = this.comoment[i]! * s;
    return c;
  }

  /** Exact merge: n = na + nb, δ = μb - μa, μ = μa + δ·nb/n, M2 = M2a + M2b + δδᵀ·na·nb/n. */
  merge(other: FeatureStats): FeatureStats {
    if (other.dim !== this.dim) throw new Error(`merge: dims differ (${this.dim} vs ${other.dim})`);
    if (other.count === 0) return this;
    if (this.count === 0) return other;
    const out = new FeatureStats(this.dim, this.count, this.mean.slice(), this.comoment.slice());
    return mergeInto(out, other);
  }
}

/** `acc` ← merge(acc, b), reusing acc's buffers (the batch loop of computeStats). */
function mergeInto(acc: FeatureStats, b: FeatureStats): FeatureStats {
  const d = acc.dim;
  const na = acc.count;
  const nb = b.count;
  const n = na + nb;
  const delta = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    delta[i] = b.mean[i]! - acc.mean[i]!;
    acc.mean[i]! += (delta[i]! * nb) / n;
  }
  const f = (na * nb) / n;
  const m2 = acc.comoment;
  for (let i = 0; i < d; i++) {
    const o = i * d;
    const di = delta[i]! * f;
    for (let j = 0; j < d; j++) m2[o + j]! += b.comoment[o + j]! + di * delta[j]!;
  }
  return new FeatureStats(d, n, acc.mean, m2);
}

export interface StatsOptions {
  /** Rows per batch whose Gram matrix is formed at once. Default 4096. */
  batchRows?: number;
  /** Matrix-product engine: 'onnx' (ONNX Runtime, default) or 'ts' (pure TypeScript). */
  engine?: EngineName | MatmulEngine;
}

/** Statistics of one batch: its own mean and the Gram matrix of the centred rows. */
async function batchStats(
  x: Features,
  rows: number,
  dim: number,
  engine: MatmulEngine,
): Promise<FeatureStats> {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) mean[j]! += x[o + j]!;
  }
  for (let j = 0; j < dim; j++) mean[j]! /= rows;
  const ct = new Float64Array(dim * rows); // [D, rows]: centred batch, transposed in 64×64 tiles
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(r0 + tile, rows);
    for (let j0 = 0; j0 < dim; j0 += tile) {
      const j1 = Math.min(j0 + tile, dim);
      for (let j = j0; j < j1; j++) {
        const m = mean[j]!;
        const o = j * rows;
        for (let r = r0; r < r1; r++) ct[o + r] = x[r * dim + j]! - m;
      }
    }
  }
  const g = await engine.dotRows(ct, dim, ct, dim, rows, { lower: true });
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) g[j * dim + i] = g[i * dim + j]!;
  return new FeatureStats(dim, rows, mean, g);
}

/** Statistics of `features` [N, D]; throws on NaN/Inf. Equivalent to numpy mean + cov·(N-1). */
export async function computeStats(
  features: Features,
  dim: number,
  opts: StatsOptions = {},
): Promise<FeatureStats> {
  if (!Number.isInteger(dim) || dim < 1)
    throw new Error(`computeStats: dim must be a positive integer, got ${dim}`);
  if (features.length % dim !== 0) {
    throw new Error(`computeStats: features has ${features.length} values, not a multiple of dim = ${dim}`);
  }
  const n = features.length / dim;
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i]!)) {
      throw new Error(
        `computeStats: features[${Math.floor(i / dim)}, ${i % dim}] is ${features[i]} — NaN/Inf features (check the extractor and its inputs)`,
      );
    }
  }
  const engine = await getEngine(opts.engine);
  const batch = opts.batchRows ?? 4096;
  let acc: FeatureStats | undefined;
  for (let r = 0; r < n; r += batch) {
    const rows = Math.min(batch, n - r);
    const b = await batchStats(features.subarray(r * dim, (r + rows) * dim), rows, dim, engine);
    acc = acc ? mergeInto(acc, b) : b;
  }
  return acc ?? FeatureStats.empty(dim);
}

const FORMAT = 'engram-ar-metrics-reference/2';
/** Format of the first files (runs made before F64 existed), read but no longer written. */
const FORMAT_HI_LO = 'engram-ar-metrics-reference/1';

/** F64 tensor `name` with `length` values (format /2). */
function f64Tensor(t: Record<string, NamedTensor>, name: string, length: number, path: string): Float64Array {
  const x = t[name];
  if (x?.dtype !== 'F64') throw new Error(`${path}: missing F64 tensor '${name}'`);
  if (x.data.length !== length) {
    throw new Error(`${path}: '${name}' has ${x.data.length} values, expected ${length}`);
  }
  return x.data as Float64Array;
}

/** Format /1 stored each float64 array as F32 tensors `name_hi`, `name_lo` with x = hi + lo (48 bits). */
function hiLoTensor(
  t: Record<string, NamedTensor>,
  name: string,
  length: number,
  path: string,
): Float64Array {
  const hi = t[`${name}_hi`];
  const lo = t[`${name}_lo`];
  if (!hi || !lo || hi.dtype !== 'F32' || lo.dtype !== 'F32') {
    throw new Error(`${path}: missing F32 tensors '${name}_hi' / '${name}_lo'`);
  }
  if (hi.data.length !== length || lo.data.length !== length) {
    throw new Error(`${path}: '${name}_hi' has ${hi.data.length} values, expected ${length}`);
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = (hi.data[i] as number) + (lo.data[i] as number);
  return out;
}

export interface ReferenceStats {
  stats: FeatureStats;
  /** Optional real features [N, dim] (float32) kept for precision/recall. */
  features?: Float32Array;
  /** Free-form provenance: dataset, extractor, label ('classifier-FID' | 'FID'), … */
  meta: Record<string, string>;
}

/** Writes reference statistics (atomically) to a .safetensors file. */
export async function saveReference(path: string, ref: ReferenceStats): Promise<void> {
  const { stats } = ref;
  const tensors: Record<string, NamedTensor> = {
    mean: { dtype: 'F64', shape: [stats.dim], data: stats.mean },
    comoment: { dtype: 'F64', shape: [stats.dim, stats.dim], data: stats.comoment },
  };
  if (ref.features) {
    if (ref.features.length % stats.dim !== 0)
      throw new Error('saveReference: features length is not a multiple of dim');
    tensors.features = {
      dtype: 'F32',
      shape: [ref.features.length / stats.dim, stats.dim],
      data: ref.features,
    };
  }
  await writeSafetensors(path, tensors, {
    ...ref.meta,
    format: FORMAT,
    count: String(stats.count),
    dim: String(stats.dim),
  });
}

export async function loadReference(path: string): Promise<ReferenceStats> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== FORMAT && metadata.format !== FORMAT_HI_LO) {
    throw new Error(`${path}: metadata.format is '${metadata.format}', expected '${FORMAT}'`);
  }
  const dim = Number(metadata.dim);
  const count = Number(metadata.count);
  if (!Number.isInteger(dim) || dim < 1)
    throw new Error(`${path}: metadata.dim '${metadata.dim}' is not a positive integer`);
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`${path}: metadata.count '${metadata.count}' is invalid`);
  const read = metadata.format === FORMAT ? f64Tensor : hiLoTensor;
  const stats = new FeatureStats(
    dim,
    count,
    read(tensors, 'mean', dim, path),
    read(tensors, 'comoment', dim * dim, path),
  );
  const { format: _f, count: _c, dim: _d, ...meta } = metadata;
  const f = tensors.features;
  const features = f ? (f.data as Float32Array) : undefined;
  if (f && (f.dtype !== 'F32' || f.shape[1] !== dim))
    throw new Error(`${path}: 'features' must be F32 [N, ${dim}]`);
  return { stats, features, meta };
}
