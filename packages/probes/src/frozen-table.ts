// E4 frozen-noise table (DESIGN.md §1): the same variant trained from scratch twice per seed, once
// with a learned table and once with the table frozen to N(0, 1), then compared on the same held-out
// grids (paired per-grid bits/code: bootstrap CI of the difference + permutation test) and, with an
// evaluator, on sample quality (FID/IS/…; Δ = frozen − learned). Training is the backbone trainer's
// `frozenTable` mode behind the `train` callback, so this package never imports TensorFlow.js.
import type { SessionOptions } from '@engram-ar/onnx';
import { generate, resolveModel, type SamplingOptions, score } from '@engram-ar/sampler';
import { type FrozenTableRecord, FrozenTableRecordSchema, makeRecord, type SampleMetrics } from './record.js';
import type { SampleEvaluator } from './sample-metrics.js';
import { bootstrapMean, compare, mean } from './stats.js';

export type TableVariant = 'learned' | 'frozen';

export interface FrozenTableSamples extends SamplingOptions {
  n: number;
  cfgScale?: number;
  batchSize?: number;
  evaluate: SampleEvaluator;
}

export interface FrozenTableProgress {
  stage: string;
  seed: number;
  done: number;
  total: number;
}

export interface FrozenTableOptions {
  seeds: readonly number[];
  /** Trains `variant` with `seed` (same seed schedule for both) and returns the exported model dir. */
  train?: (variant: TableVariant, seed: number) => Promise<string>;
  /** Already exported pairs, used for the seeds `train` does not cover (or when it is absent). */
  models?: readonly { seed: number; learned: string; frozen: string }[];
  grids: Int32Array; // [N, H, W] held-out
  labels: Int32Array; // [N]
  samples?: FrozenTableSamples;
  bootstrapReplicates?: number; // default 2000
  permutations?: number; // default 9999
  batchSize?: number;
  session?: SessionOptions;
  onProgress?: (p: FrozenTableProgress) => void;
}

async function evaluateModel(
  dir: string,
  o: FrozenTableOptions,
  seed: number,
): Promise<{ bits: Float64Array; samples: SampleMetrics | null }> {
  const { model, release } = await resolveModel(dir, o.session);
  try {
    const P = model.manifest.grid.height * model.manifest.grid.width;
    const r = await score({ model, codes: o.grids, classes: o.labels, batchSize: o.batchSize });
    const bits = Float64Array.from(r.nll, (x) => x / (P * Math.LN2));
    let samples: SampleMetrics | null = null;
    if (o.samples) {
      const classes = Int32Array.from({ length: o.samples.n }, (_, i) => i % model.manifest.numClasses);
      const g = await generate({ ...o.samples, model, classes, n: o.samples.n, seed: `${seed}/samples` });
      const { height, width } = model.manifest.grid;
      samples = await o.samples.evaluate(g.codes, g.classes, [o.samples.n, height, width]);
    }
    return { bits, samples };
  } finally {
    await release();
  }
}

export async function frozenTableProbe(o: FrozenTableOptions): Promise<FrozenTableRecord> {
  const t0 = performance.now();
  const replicates = o.bootstrapReplicates ?? 2000;
  const permutations = o.permutations ?? 9999;
  const total = o.seeds.length * (o.train ? 4 : 2);
  let done = 0;
  const tick = (stage: string, seed: number) => o.onProgress?.({ stage, seed, done: ++done, total });
  const runs: FrozenTableRecord['runs'] = [];
  let positions = 0;
  for (const seed of o.seeds) {
    const given = o.models?.find((m) => m.seed === seed);
    const dirs: Record<TableVariant, string> = { learned: '', frozen: '' };
    for (const v of ['learned', 'frozen'] as const) {
      if (o.train) {
        dirs[v] = await o.train(v, seed);
        tick(`train ${v}`, seed);
      } else if (given) dirs[v] = given[v];
      else throw new Error(`frozenTableProbe: seed ${seed} has neither a train callback nor models`);
    }
    const learned = await evaluateModel(dirs.learned, o, seed);
    tick('evaluate learned', seed);
    const frozen = await evaluateModel(dirs.frozen, o, seed);
    tick('evaluate frozen', seed);
    positions = o.grids.length / o.labels.length;
    const boot = { replicates, seed: `${seed}/bootstrap` };
    const diff = Float64Array.from(frozen.bits, (x, i) => x - learned.bits[i]!);
    const deltaSamples: Record<string, number | null> = {};
    if (learned.samples && frozen.samples)
      for (const [k, v] of Object.entries(frozen.samples)) {
        const a = v.value;
        const b = learned.samples[k]?.value;
        deltaSamples[k] = a === null || b === null || b === undefined ? null : a - b;
      }
    runs.push({
      seed,
      learned: {
        dir: dirs.learned,
        bitsPerCode: await bootstrapMean(learned.bits, boot),
        samples: learned.samples,
      },
      frozen: {
        dir: dirs.frozen,
        bitsPerCode: await bootstrapMean(frozen.bits, boot),
        samples: frozen.samples,
      },
      deltaBitsPerCode: await bootstrapMean(diff, boot),
      testBitsPerCode: {
        a: 'frozen',
        b: 'learned',
        metric: 'bitsPerCode',
        ...compare(frozen.bits, learned.bits, { paired: true, permutations, seed: `${seed}/permutation` }),
      },
      deltaSamples,
    });
  }
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.deltaSamples)))];
  return makeRecord(FrozenTableRecordSchema, {
    probe: 'frozen-table',
    version: 1,
    createdAt: new Date().toISOString(),
    inputs: { seeds: [...o.seeds], sampleCount: o.samples?.n ?? 0, trained: !!o.train },
    counts: { grids: o.labels.length, positions, bootstrapReplicates: replicates, permutations },
    runs,
    summary: {
      deltaBitsPerCode: mean(runs.map((r) => r.deltaBitsPerCode.mean ?? Number.NaN)),
      deltaSamples: Object.fromEntries(
        keys.map((k) => [k, mean(runs.map((r) => r.deltaSamples[k] ?? Number.NaN))]),
      ),
    },
    timings: { totalMs: performance.now() - t0 },
  });
}
