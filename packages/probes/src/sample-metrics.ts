// Sample quality of generated code grids, for the gate-clamp and frozen-table protocols. A protocol
// takes any `SampleEvaluator`; `imageSampleEvaluator` is the standard one: decode the codes with the
// tokenizer's decoder.onnx (sampler's decodeCodes), then classifier-FID / FID, IS, precision/recall and
// class consistency with the metrics package's `computeMetrics` (statistics exist once, there).
import {
  computeMetrics,
  type FeatureExtractor,
  type MetricsReport,
  type ReferenceStats,
} from '@engram-ar/metrics';
import type { Session } from '@engram-ar/onnx';
import { decodeCodes, imagesToUint8 } from '@engram-ar/sampler';
import type { SampleMetrics } from './record.js';

/** Scores generated grids: codes [n, H, W] conditioned on classes [n]. */
export type SampleEvaluator = (
  codes: Int32Array,
  classes: Int32Array,
  shape: readonly [number, number, number],
) => Promise<SampleMetrics>;

/** metrics' report as a record's sample metrics (value + 95 % CI where metrics gives one). */
export function reportToSampleMetrics(r: MetricsReport): SampleMetrics {
  const out: SampleMetrics = {
    [r.label]: { value: r.fid, low: r.fidCI?.low, high: r.fidCI?.high },
    count: { value: r.count },
  };
  if (r.is !== undefined) out.is = { value: r.is, low: r.isCI?.low, high: r.isCI?.high };
  if (r.classConsistency !== undefined) out.classConsistency = { value: r.classConsistency };
  if (r.precision !== undefined) out.precision = { value: r.precision };
  if (r.recall !== undefined) out.recall = { value: r.recall };
  return out;
}

export interface ImageSampleEvaluatorOptions {
  /** The tokenizer's decoder.onnx (path or open session): codes [B, h, w] int64 → images [B, C, H, W]. */
  decoder: string | Session;
  /** Feature net or Inception, opened with metrics' FeatureExtractor. */
  extractor: FeatureExtractor;
  /** Reference statistics of real images (or their .safetensors path). */
  ref: ReferenceStats | string;
  /** Bootstrap replicates of the FID / IS intervals (metrics' default 50). */
  bootstrap?: number;
  seed?: number | string;
  /** Inception-Score splits; default min(10, samples) so small sample sets still score. */
  splits?: number;
}

export function imageSampleEvaluator(o: ImageSampleEvaluatorOptions): SampleEvaluator {
  return async (codes, classes, shape) => {
    const d = await decodeCodes(o.decoder, codes, shape);
    const report = await computeMetrics({
      samples: {
        images: imagesToUint8(d),
        height: d.height,
        width: d.width,
        channels: d.channels,
        labels: classes,
      },
      ref: o.ref,
      extractor: o.extractor,
      bootstrap: o.bootstrap,
      seed: o.seed,
      splits: o.splits ?? Math.min(10, classes.length),
    });
    return reportToSampleMetrics(report);
  };
}
