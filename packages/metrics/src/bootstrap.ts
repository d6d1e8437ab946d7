// Bootstrap 95 % confidence intervals: resample the generated samples with replacement (seeded
// Rng), recompute the metric, take the 2.5th and 97.5th percentiles (linear interpolation, as
// numpy.percentile). The reference statistics stay fixed: the interval covers the sampling noise
// of the generated set only.
//
// FID is biased upwards on a resample (duplicated rows shrink the effective sample), so the raw
// percentile interval can miss the point estimate entirely. By default ('bias-corrected') both
// percentiles are shifted by the bootstrap bias estimate, mean(replicates) − estimate;
// 'percentile' gives the raw interval.
import { Rng } from '@engram-ar/tensor/rng';
import { type FidOptions, frechetDistance } from './fid.js';
import { inceptionScoreFromProbs, softmaxRows } from './is.js';
import { computeStats, type FeatureStats, type Features } from './stats.js';

export interface Interval {
  low: number;
  high: number;
  replicates: number;
  method: 'bias-corrected' | 'percentile';
  /** mean(replicates) − estimate on the full set. */
  bias: number;
}

export interface BootstrapOptions {
  replicates?: number; // default 50
  seed?: number | string; // default 0
  method?: 'bias-corrected' | 'percentile';
}

/** Linear-interpolated percentile q ∈ [0, 100] of `x`. */
export function percentile(x: Float64Array, q: number): number {
  const s = Float64Array.from(x).sort();
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Runs `statistic` on `replicates` resamples of [0, n) (indices with replacement). */
export async function bootstrapInterval(
  n: number,
  statistic: (indices: Int32Array) => number | Promise<number>,
  opts: BootstrapOptions = {},
): Promise<Interval> {
  const replicates = opts.replicates ?? 50;
  if (!Number.isInteger(replicates) || replicates < 1) {
    throw new Error(`bootstrap: replicates must be a positive integer, got ${replicates}`);
  }
  const method = opts.method ?? 'bias-corrected';
  const estimate = await statistic(Int32Array.from({ length: n }, (_, i) => i));
  const rng = new Rng(opts.seed ?? 0).split('bootstrap');
  const values = new Float64Array(replicates);
  const idx = new Int32Array(n);
  for (let b = 0; b < replicates; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    values[b] = await statistic(idx);
  }
  let mean = 0;
  for (const v of values) mean += v / replicates;
  const bias = mean - estimate;
  const shift = method === 'bias-corrected' ? bias : 0;
  return {
    low: percentile(values, 2.5) - shift,
    high: percentile(values, 97.5) - shift,
    replicates,
    method,
    bias,
  };
}

function gatherRows(x: Features, dim: number, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) out.set(x.subarray(idx[i]! * dim, idx[i]! * dim + dim), i * dim);
  return out;
}

/** 95 % CI of FID(resampled features, ref). Costs one statistics pass + one FID per replicate. */
export function fidInterval(
  features: Features,
  dim: number,
  ref: FeatureStats,
  opts: BootstrapOptions & FidOptions = {},
): Promise<Interval> {
  return bootstrapInterval(
    features.length / dim,
    async (idx) => {
      const s = await computeStats(gatherRows(features, dim, idx), dim, { engine: opts.engine });
      return (await frechetDistance(s, ref, opts)).fid;
    },
    opts,
  );
}

/** 95 % CI of the Inception Score (mean over splits) of resampled logits [N, C]. */
export function isInterval(
  logits: Float32Array | Float64Array,
  classes: number,
  opts: BootstrapOptions & { splits?: number } = {},
): Promise<Interval> {
  const probs = softmaxRows(logits, classes);
  return bootstrapInterval(
    probs.length / classes,
    (idx) => inceptionScoreFromProbs(gatherRows(probs, classes, idx), classes, opts).mean,
    opts,
  );
}
