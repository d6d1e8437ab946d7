// E2 gate clamp (DESIGN.md §1): replace every Engram layer's gate α by a constant g and measure
// held-out NLL (bits/code, teacher-forced via the sampler's `score`) and, when an evaluator is given,
// the quality of samples generated under the same clamp. Each clamp is compared with the learned
// gate on the same grids (paired per-grid differences: bootstrap CI + permutation test). The learned
// gate's own distribution is summarised per layer (mean, std, quantiles, mean by raster position).
import type { SessionOptions } from '@engram-ar/onnx';
import { generate, type LoadedModel, resolveModel, type SamplingOptions, score } from '@engram-ar/sampler';
import { type GateClampRecord, GateClampRecordSchema, makeRecord, modelInfo } from './record.js';
import type { SampleEvaluator } from './sample-metrics.js';
import { bootstrapMean, compare } from './stats.js';

export const DEFAULT_CLAMPS: readonly number[] = [0, 0.01, 0.05, 0.1, 0.2, 0.5, 1];
export const GATE_QUANTILES: readonly number[] = [0.05, 0.25, 0.5, 0.75, 0.95];

export interface GateClampSamples extends SamplingOptions {
  /** Samples per setting (classes cycle 0..numClasses-1 unless `classes` is given). */
  n: number;
  classes?: ArrayLike<number>;
  cfgScale?: number;
  batchSize?: number;
  evaluate: SampleEvaluator;
}

export interface GateClampProgress {
  /** Setting name ('learned', '0', '0.1', …) and phase. */
  stage: string;
  done: number;
  total: number;
}

export interface GateClampOptions {
  model: string | LoadedModel;
  grids: Int32Array; // [N, H, W] held-out
  labels: Int32Array; // [N]
  clamps?: readonly number[];
  /** Include the learned gate (default true; needed for the deltas and the gate distribution). */
  learned?: boolean;
  samples?: GateClampSamples;
  seed?: number | string;
  bootstrapReplicates?: number; // default 2000
  permutations?: number; // default 9999
  batchSize?: number;
  session?: SessionOptions;
  onProgress?: (p: GateClampProgress) => void;
}

/** Linear-interpolated quantile of sorted values. */
function quantileSorted(s: Float64Array, q: number): number {
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Per-layer summary of gates [N, P, Le]. */
export function gateDistribution(
  gates: Float32Array,
  positions: number,
  layers: readonly number[],
): GateClampRecord['gates'] {
  const Le = layers.length;
  const N = gates.length / (positions * Le);
  return layers.map((layer, l) => {
    const v = new Float64Array(N * positions);
    const byPos = new Float64Array(positions);
    for (let i = 0; i < N; i++)
      for (let p = 0; p < positions; p++) {
        const g = gates[(i * positions + p) * Le + l]!;
        v[i * positions + p] = g;
        byPos[p]! += g / N;
      }
    let m = 0;
    for (const x of v) m += x;
    m /= v.length;
    let ss = 0;
    for (const x of v) ss += (x - m) ** 2;
    v.sort();
    return {
      layer,
      mean: m,
      std: Math.sqrt(ss / v.length),
      quantiles: Object.fromEntries(GATE_QUANTILES.map((q) => [String(q), quantileSorted(v, q)])),
      byPosition: Array.from(byPos),
    };
  });
}

export async function gateClampProbe(opts: GateClampOptions): Promise<GateClampRecord> {
  const t0 = performance.now();
  const { model, release } = await resolveModel(opts.model, opts.session);
  try {
    const m = model.manifest;
    if (!m.engram) throw new Error('gateClampProbe: the model has no Engram memory');
    const P = m.grid.height * m.grid.width;
    const N = opts.labels.length;
    if (opts.grids.length !== N * P)
      throw new Error(`grids: length ${opts.grids.length} != labels (${N}) × H·W (${P})`);
    const clamps = opts.clamps ?? DEFAULT_CLAMPS;
    clamps.forEach((g, i) => {
      if (!(g >= 0 && Number.isFinite(g))) throw new Error(`clamps[${i}]: ${g} is not a gate value ≥ 0`);
    });
    const learned = opts.learned ?? true;
    const root = opts.seed ?? 0;
    const replicates = opts.bootstrapReplicates ?? 2000;
    const permutations = opts.permutations ?? 9999;
    const bootSeed = `${root}/bootstrap`;
    const permSeed = `${root}/permutation`;
    const sampleSeed = `${root}/samples`;
    const settings: { name: string; clamp: number | null }[] = [
      ...(learned ? [{ name: 'learned', clamp: null }] : []),
      ...clamps.map((g) => ({ name: String(g), clamp: g })),
    ];
    const total = settings.length * (opts.samples ? 2 : 1);
    let done = 0;
    const tick = (stage: string) => opts.onProgress?.({ stage, done: ++done, total });
    const toBits = 1 / (P * Math.LN2);
    const samples = opts.samples;
    const sampleClasses = samples
      ? samples.classes
        ? Int32Array.from(samples.classes)
        : Int32Array.from({ length: samples.n }, (_, i) => i % m.numClasses)
      : null;

    let learnedBits: Float64Array | null = null;
    let gates: GateClampRecord['gates'] = [];
    const out: GateClampRecord['settings'] = [];
    for (const s of settings) {
      const r = await score({
        model,
        codes: opts.grids,
        classes: opts.labels,
        gateClamp: s.clamp,
        batchSize: opts.batchSize,
      });
      const bits = Float64Array.from(r.nll, (x) => x * toBits);
      if (s.clamp === null) {
        learnedBits = bits;
        gates = gateDistribution(r.gates!, P, m.engram.layers);
      }
      tick(`${s.name} nll`);
      let delta = null;
      let test = null;
      if (learnedBits && s.clamp !== null) {
        const d = Float64Array.from(bits, (x, i) => x - learnedBits![i]!);
        delta = await bootstrapMean(d, { replicates, seed: bootSeed });
        test = {
          a: s.name,
          b: 'learned',
          metric: 'bitsPerCode' as const,
          ...compare(bits, learnedBits, { paired: true, permutations, seed: permSeed }),
        };
      }
      let sampleRec = null;
      if (samples && sampleClasses) {
        const ts = performance.now();
        const g = await generate({
          ...samples,
          model,
          classes: sampleClasses,
          n: samples.n,
          seed: sampleSeed,
          gateClamp: s.clamp,
        });
        sampleRec = {
          n: samples.n,
          seed: sampleSeed,
          cfgScale: samples.cfgScale ?? 1,
          metrics: await samples.evaluate(g.codes, g.classes, [samples.n, m.grid.height, m.grid.width]),
          ms: performance.now() - ts,
        };
        tick(`${s.name} samples`);
      }
      out.push({
        name: s.name,
        clamp: s.clamp,
        bitsPerCode: await bootstrapMean(bits, { replicates, seed: bootSeed }),
        deltaVsLearned: delta,
        testVsLearned: test,
        samples: sampleRec,
      });
    }
    return makeRecord(GateClampRecordSchema, {
      probe: 'gate-clamp',
      version: 1,
      createdAt: new Date().toISOString(),
      model: modelInfo(model),
      inputs: { clamps: [...clamps], learned, sampleCount: samples?.n ?? 0 },
      seeds: { root, bootstrap: bootSeed, permutation: permSeed, samples: sampleSeed },
      counts: { grids: N, positions: P, bootstrapReplicates: replicates, permutations },
      settings: out,
      gates,
      timings: { totalMs: performance.now() - t0 },
    });
  } finally {
    await release();
  }
}
