// Percentile bootstrap 95 % confidence intervals: resample the generated samples with
// replacement (seeded Rng), recompute the metric, take the 2.5th and 97.5th percentiles (linear
// interpolation, as numpy.percentile). The reference statistics stay fixed: the interval covers
// the sampling noise of the generated set only.
import { Rng } from '@engram-ar/tensor/rng';
import { type FidOptions, frechetDistance } from './fid.js';
import { inceptionScoreFromProbs, softmaxRows } from './is.js';
import { computeStats, type FeatureStats, type Features } from './stats.js';

export interface Interval {
  low: number;
  high: number;
  replicates: number;
}

export interface BootstrapOptions {
  replicates?: number; // default 50
  seed?: number | string; // default 0
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
  const rng = new Rng(opts.seed ?? 0).split('bootstrap');
  const values = new Float64Array(replicates);
  const idx = new Int32Array(n);
  for (let b = 0; b < replicates; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    values[b] = await statistic(idx);
  }
  return { low: percentile(values, 2.5), high: percentile(values, 97.5), replicates };
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
