// Feature extraction through any ONNX model (ONNX Runtime only), and the one-call `computeMetrics`.
//
// Images are uint8 [N, H, W, C]. Each is resized to the extractor's input size with ONE filter:
// bilinear, align_corners = false (half-pixel centres, source coordinate clamped at the border, no
// antialiasing) — the same as torch.nn.functional.interpolate(mode='bilinear', align_corners=False),
// which pytorch-fid uses to bring images to 299×299. Equal sizes are an exact copy. Channels are
// adapted (gray → RGB by replication; RGB → gray by ITU-R 601 luma 0.299/0.587/0.114), values mapped
// linearly from [0, 255] to the extractor's `range`, and laid out as NCHW or NHWC.
import { existsSync, readFileSync } from 'node:fs';
import { createSession, type Session } from '@engram-ar/onnx';
import { Rng } from '@engram-ar/tensor/rng';
import { z } from 'zod';
import { fidInterval, type Interval, isInterval } from './bootstrap.js';
import { frechetDistance } from './fid.js';
import { classConsistency, inceptionScore } from './is.js';
import type { EngineName, MatmulEngine } from './matmul.js';
import { precisionRecall } from './prd.js';
import { computeStats, loadReference, type ReferenceStats } from './stats.js';

export const extractorSpecSchema = z.object({
  /** 'classifier' (e.g. @engram-ar/feature-net) → "classifier-FID"; 'inception' → standard "FID". */
  kind: z.enum(['classifier', 'inception']),
  input: z.string().min(1),
  layout: z.enum(['NCHW', 'NHWC']),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  range: z.tuple([z.number(), z.number()]).default([-1, 1]),
  featureOutput: z.string().min(1),
  logitsOutput: z.string().min(1).optional(),
  batchSize: z.number().int().positive().default(64),
});

export type ExtractorSpecInput = z.input<typeof extractorSpecSchema>;
export type ExtractorSpec = z.output<typeof extractorSpecSchema>;

export interface ImageBatch {
  images: Uint8Array; // [N, H, W, C], 0..255
  height: number;
  width: number;
  channels: number;
  labels?: Int32Array; // [N] class each sample was conditioned on
}

function parseSpec(x: unknown, where: string): ExtractorSpec {
  const r = extractorSpecSchema.safeParse(x);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** Bilinear resize (align_corners = false) of one HWC float image; see the file comment. */
export function resizeBilinear(
  src: Float32Array, // [h, w, c]
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW * c);
  if (outH === h && outW === w) {
    out.set(src);
    return out;
  }
  const sy = h / outH;
  const sx = w / outW;
  for (let y = 0; y < outH; y++) {
    const fy = Math.max((y + 0.5) * sy - 0.5, 0);
    const y0 = Math.min(Math.floor(fy), h - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.max((x + 0.5) * sx - 0.5, 0);
      const x0 = Math.min(Math.floor(fx), w - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k]!;
        const b = src[(y0 * w + x1) * c + k]!;
        const cc = src[(y1 * w + x0) * c + k]!;
        const d = src[(y1 * w + x1) * c + k]!;
        out[(y * outW + x) * c + k] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * cc + wx * d);
      }
    }
  }
  return out;
}

/** uint8 images → the extractor's input tensor data [n, C, H, W] or [n, H, W, C]. */
export function prepareImages(
  batch: ImageBatch,
  start: number,
  n: number,
  spec: ExtractorSpec,
): Float32Array {
  const { height: h, width: w, channels: c } = batch;
  if (c !== 1 && c !== 3) throw new Error(`images: channels must be 1 or 3, got ${c}`);
  const oc = spec.channels;
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  const px = h * w;
  const out = new Float32Array(n * spec.height * spec.width * oc);
  const img = new Float32Array(px * oc);
  const opx = spec.height * spec.width;
  for (let i = 0; i < n; i++) {
    const src = (start + i) * px * c;
    for (let p = 0; p < px; p++) {
      if (c === oc) for (let k = 0; k < c; k++) img[p * oc + k] = batch.images[src + p * c + k]!;
      else if (c === 1) for (let k = 0; k < 3; k++) img[p * 3 + k] = batch.images[src + p]!;
      else {
        const s = src + p * 3;
        img[p] = 0.299 * batch.images[s]! + 0.587 * batch.images[s + 1]! + 0.114 * batch.images[s + 2]!;
      }
    }
    const r = resizeBilinear(img, h, w, oc, spec.height, spec.width);
    const o = i * opx * oc;
    for (let p = 0; p < opx; p++) {
      for (let k = 0; k < oc; k++) {
        const v = r[p * oc + k]! * scale + lo;
        out[spec.layout === 'NCHW' ? o + k * opx + p : o + p * oc + k] = v;
      }
    }
  }
  return out;
}

export class FeatureExtractor {
  private constructor(
    readonly spec: ExtractorSpec,
    private readonly session: Session,
  ) {}

  /**
   * Opens `modelPath`. The spec comes from `overrides` merged over the sidecar `<model>.json` written
   * by @engram-ar/feature-net (format 'engram-ar-extractor/1'), if present.
   */
  static async open(
    modelPath: string,
    overrides: Partial<ExtractorSpecInput> = {},
  ): Promise<FeatureExtractor> {
    const side = modelPath.endsWith('.onnx') ? `${modelPath.slice(0, -5)}.json` : `${modelPath}.json`;
    const base = existsSync(side) ? (JSON.parse(readFileSync(side, 'utf8')) as Record<string, unknown>) : {};
    const spec = parseSpec(
      { ...pick(base, Object.keys(extractorSpecSchema.shape)), ...overrides },
      `extractor spec for ${modelPath}`,
    );
    const session = await createSession(modelPath);
    for (const [field, name] of [
      ['featureOutput', spec.featureOutput],
      ['logitsOutput', spec.logitsOutput],
    ] as const) {
      if (name !== undefined && !session.outputNames.includes(name)) {
        throw new Error(
          `extractor spec ${field}: model has no output '${name}' (outputs: ${session.outputNames.join(', ')})`,
        );
      }
    }
    if (!session.inputNames.includes(spec.input)) {
      throw new Error(
        `extractor spec input: model has no input '${spec.input}' (inputs: ${session.inputNames.join(', ')})`,
      );
    }
    return new FeatureExtractor(spec, session);
  }

  get label(): 'classifier-FID' | 'FID' {
    return this.spec.kind === 'inception' ? 'FID' : 'classifier-FID';
  }

  /** Features [N, F] and, if the spec names a logits output, logits [N, K]. */
  async extract(
    batch: ImageBatch,
  ): Promise<{ features: Float32Array; dim: number; logits?: Float32Array; classes?: number }> {
    const { spec } = this;
    const n = batch.images.length / (batch.height * batch.width * batch.channels);
    if (!Number.isInteger(n)) throw new Error('extract: images length is not N × H × W × C');
    const dims = (b: number) =>
      spec.layout === 'NCHW'
        ? [b, spec.channels, spec.height, spec.width]
        : [b, spec.height, spec.width, spec.channels];
    const feats: Float32Array[] = [];
    const logits: Float32Array[] = [];
    let dim = 0;
    let classes = 0;
    const fetches = spec.logitsOutput ? [spec.featureOutput, spec.logitsOutput] : [spec.featureOutput];
    for (let s = 0; s < n; s += spec.batchSize) {
      const b = Math.min(spec.batchSize, n - s);
      const data = prepareImages(batch, s, b, spec);
      const out = await this.session.run({ [spec.input]: { type: 'float32', data, dims: dims(b) } }, fetches);
      const f = out[spec.featureOutput]!;
      dim = (f.data as Float32Array).length / b; // pooled [B, F, 1, 1] outputs flatten to [B, F]
      feats.push(Float32Array.from(f.data as Float32Array));
      if (spec.logitsOutput) {
        const l = out[spec.logitsOutput]!.data as Float32Array;
        classes = l.length / b;
        logits.push(Float32Array.from(l));
      }
    }
    const cat = (parts: Float32Array[]) => {
      const o = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        o.set(p, off);
        off += p.length;
      }
      return o;
    };
    return spec.logitsOutput
      ? { features: cat(feats), dim, logits: cat(logits), classes }
      : { features: cat(feats), dim };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));
}

/** Reference statistics of real images; keeps a seeded random `keepFeatures` (10 000) real features for precision/recall. */
export async function computeReference(
  real: ImageBatch,
  extractor: FeatureExtractor,
  opts: {
    keepFeatures?: number;
    seed?: number | string;
    engine?: EngineName | MatmulEngine;
    meta?: Record<string, string>;
  } = {},
): Promise<ReferenceStats> {
  const { features, dim } = await extractor.extract(real);
  const stats = await computeStats(features, dim, { engine: opts.engine });
  const keep = Math.min(opts.keepFeatures ?? 10_000, stats.count);
  // a seeded random subset: datasets are often stored class by class
  const rows = new Rng(opts.seed ?? 0)
    .split('reference-features')
    .permutation(stats.count)
    .slice(0, keep)
    .sort();
  const kept = new Float32Array(keep * dim);
  for (const [i, r] of rows.entries()) kept.set(features.subarray(r * dim, (r + 1) * dim), i * dim);
  return {
    stats,
    features: kept,
    meta: { ...opts.meta, label: extractor.label, extractorKind: extractor.spec.kind },
  };
}

export interface MetricsReport {
  label: 'classifier-FID' | 'FID';
  count: number;
  fid: number;
  fidCI?: Interval;
  /** Inception Score (mean over 10 splits) when the extractor has logits. */
  is?: number;
  isStd?: number;
  isCI?: Interval;
  precision?: number;
  recall?: number;
  /** Share of samples classified as the class they were conditioned on (needs labels + logits). */
  classConsistency?: number;
}

export interface ComputeMetricsOptions {
  samples: ImageBatch;
  ref: ReferenceStats | string;
  extractor: FeatureExtractor;
  /** Bootstrap replicates for the 95 % CIs (0 disables). Default 50. */
  bootstrap?: number;
  seed?: number | string;
  k?: number;
  splits?: number;
  engine?: EngineName | MatmulEngine;
}

/** FID (+CI), IS (+CI), precision/recall and class consistency of generated images. */
export async function computeMetrics(opts: ComputeMetricsOptions): Promise<MetricsReport> {
  const ref = typeof opts.ref === 'string' ? await loadReference(opts.ref) : opts.ref;
  const { features, dim, logits, classes } = await opts.extractor.extract(opts.samples);
  if (dim !== ref.stats.dim) {
    throw new Error(
      `computeMetrics: extractor features have dim ${dim}, reference statistics have ${ref.stats.dim}`,
    );
  }
  const refLabel = ref.meta.label;
  if (refLabel && refLabel !== opts.extractor.label) {
    throw new Error(
      `computeMetrics: reference was made for '${refLabel}', extractor gives '${opts.extractor.label}'`,
    );
  }
  const engine = opts.engine;
  const stats = await computeStats(features, dim, { engine });
  const report: MetricsReport = {
    label: opts.extractor.label,
    count: stats.count,
    fid: (await frechetDistance(stats, ref.stats, { engine })).fid,
  };
  const replicates = opts.bootstrap ?? 50;
  const seed = opts.seed ?? 0;
  if (replicates > 0)
    report.fidCI = await fidInterval(features, dim, ref.stats, { replicates, seed, engine });
  if (logits && classes) {
    const is = inceptionScore(logits, classes, { splits: opts.splits });
    report.is = is.mean;
    report.isStd = is.std;
    if (replicates > 0)
      report.isCI = await isInterval(logits, classes, { replicates, seed, splits: opts.splits });
    if (opts.samples.labels) report.classConsistency = classConsistency(logits, classes, opts.samples.labels);
  }
  if (ref.features && ref.features.length > 0) {
    const pr = await precisionRecall(ref.features, features, dim, { k: opts.k, engine });
    report.precision = pr.precision;
    report.recall = pr.recall;
  }
  return report;
}
