// Sample quality of generated code grids, for the gate-clamp and frozen-table protocols. The probes
// do not decode codes to images nor run a feature net themselves (those are the tokenizer's and the
// feature-net's ONNX models, wired by the app): the caller supplies `evaluate`, and
// `featureSampleMetrics` turns the feature net's outputs into classifier-FID / IS / class
// consistency with the metrics package's bootstrap CIs.
import {
  classConsistency,
  computeStats,
  type FeatureStats,
  fidInterval,
  frechetDistance,
  inceptionScore,
  isInterval,
} from '@engram-ar/metrics';
import type { SampleMetrics } from './record.js';

/** Scores generated grids: codes [n, H, W] conditioned on classes [n]. */
export type SampleEvaluator = (codes: Int32Array, classes: Int32Array) => Promise<SampleMetrics>;

export interface FeatureMetricsInput {
  /** Feature-net features of the decoded samples. [n, dim] */
  features: Float32Array;
  dim: number;
  /** Feature-net class logits. [n, numClasses] */
  logits: Float32Array;
  numClasses: number;
  /** Classes the samples were generated for. [n] */
  classes: Int32Array;
  /** Statistics of the real (reference) features. */
  reference: FeatureStats;
  /** Bootstrap replicates of the FID / IS intervals (default 50, as metrics). */
  replicates?: number;
  seed?: number | string;
  /** Inception-Score splits (metrics' default when absent). */
  splits?: number;
}

/** FID (vs reference), IS and class consistency of one sample set, with 95 % bootstrap CIs. */
export async function featureSampleMetrics(o: FeatureMetricsInput): Promise<SampleMetrics> {
  const boot = { replicates: o.replicates ?? 50, seed: o.seed ?? 0 };
  const split = o.splits === undefined ? {} : { splits: o.splits };
  const fid = await frechetDistance(await computeStats(o.features, o.dim), o.reference);
  const fidCi = await fidInterval(o.features, o.dim, o.reference, boot);
  const is = inceptionScore(o.logits, o.numClasses, split);
  const isCi = await isInterval(o.logits, o.numClasses, { ...boot, ...split });
  return {
    fid: { value: fid.fid, low: fidCi.low, high: fidCi.high },
    is: { value: is.mean, low: isCi.low, high: isCi.high },
    classConsistency: { value: classConsistency(o.logits, o.numClasses, o.classes) },
  };
}
