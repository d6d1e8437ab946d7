// Every probe returns one JSON record: its inputs, seeds, sample counts and results with CIs,
// validated by the zod schemas below before it is returned or written. JSON has no Infinity/NaN,
// so non-finite numbers (a 0/0 ratio, an infinite KL) are stored as null.
import type { LoadedModel } from '@engram-ar/sampler';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import { z } from 'zod';

/** A number, or null where the value is not finite. */
const Num = z.number().nullable();
const Int = z.number().int().nonnegative();
const Seed = z.union([z.number(), z.string()]);

export const MeanCISchema = z.object({
  mean: Num,
  low: Num,
  high: Num,
  n: Int,
  replicates: Int,
  seed: Seed,
});

export const ComparisonSchema = z.object({
  a: z.string(),
  b: z.string(),
  metric: z.enum(['kl', 'js', 'bitsPerCode']),
  statistic: Num,
  pValue: z.number().min(0).max(1),
  permutations: Int,
  paired: z.boolean(),
  alternative: z.enum(['two-sided', 'greater', 'less']),
  seed: Seed,
  cohensD: Num,
  rankBiserial: Num,
  n: z.tuple([Int, Int]),
});

export const ModelInfoSchema = z.object({
  dir: z.string(),
  onnx: z.string(),
  vocab: Int,
  numClasses: Int,
  grid: z.object({ height: Int, width: Int }),
  engramLayers: z.array(Int),
  tableRows: Int.nullable(),
  meta: z.record(z.string(), z.string()),
});

export const ConditionSchema = z.object({
  name: z.string(),
  kind: z.enum(['donor', 'control']),
  kl: MeanCISchema,
  js: MeanCISchema,
  /** Mean KL at each raster position over grids. [H·W] */
  klByPosition: z.array(Num),
  /** Fraction of Engram row ids that differ from the true codes' rows. */
  rowsChanged: z.number().min(0).max(1),
  /** Positions whose KL is +Infinity. */
  infinitePositions: Int,
  /**
   * Donors: positions whose Engram keys differ from the true ones (any row id) vs the rest — a
   * retriever's KL concentrates where the keys differ; a key-blind pathway shows none of that contrast.
   */
  keySplit: z.object({ changedPositions: z.number(), klChanged: Num, klSame: Num }).nullable(),
  /** Donors: Hamming distance (cells) from each grid to its donor, summarised. */
  donorDistance: z.object({ mean: z.number(), min: Int, max: Int }).nullable(),
});

export const RatioSchema = z.object({ numerator: z.string(), denominator: z.string(), ratio: MeanCISchema });

export const DonorProbeRecordSchema = z.object({
  probe: z.literal('donor'),
  version: z.literal(1),
  createdAt: z.string(),
  model: ModelInfoSchema,
  inputs: z.object({
    kinds: z.array(z.string()),
    controls: z.array(z.string()),
    poolSize: Int,
    poolIsGrids: z.boolean(),
    excludeIdentical: z.boolean(),
    gateClamp: z.array(Num),
  }),
  seeds: z.object({
    root: Seed,
    donors: z.string(),
    randomise: z.string(),
    bootstrap: z.string(),
    permutation: z.string(),
  }),
  counts: z.object({ grids: Int, positions: Int, vocab: Int, bootstrapReplicates: Int, permutations: Int }),
  conditions: z.array(ConditionSchema),
  comparisons: z.array(ComparisonSchema),
  ratios: z.array(RatioSchema),
  timings: z.object({ totalMs: z.number(), scoreRuns: Int }),
});
export type DonorProbeRecord = z.output<typeof DonorProbeRecordSchema>;

const SampleMetricSchema = z.object({ value: Num, low: Num.optional(), high: Num.optional() });
export const SampleMetricsSchema = z.record(z.string(), SampleMetricSchema);
export type SampleMetrics = z.output<typeof SampleMetricsSchema>;

export const GateSettingSchema = z.object({
  /** 'learned' or the clamp value as a string ('0', '0.1', …). */
  name: z.string(),
  clamp: Num,
  bitsPerCode: MeanCISchema,
  /** Paired per-grid (this − learned) bits/code, with a permutation test; null for 'learned'. */
  deltaVsLearned: MeanCISchema.nullable(),
  testVsLearned: ComparisonSchema.nullable(),
  samples: z
    .object({ n: Int, seed: Seed, cfgScale: z.number(), metrics: SampleMetricsSchema, ms: z.number() })
    .nullable(),
});

export const GateDistributionSchema = z.object({
  layer: Int,
  mean: z.number(),
  std: z.number(),
  quantiles: z.record(z.string(), z.number()),
  /** Mean learned gate at each raster position. [H·W] */
  byPosition: z.array(z.number()),
});

export const GateClampRecordSchema = z.object({
  probe: z.literal('gate-clamp'),
  version: z.literal(1),
  createdAt: z.string(),
  model: ModelInfoSchema,
  inputs: z.object({ clamps: z.array(z.number()), learned: z.boolean(), sampleCount: Int }),
  seeds: z.object({ root: Seed, bootstrap: z.string(), permutation: z.string(), samples: z.string() }),
  counts: z.object({ grids: Int, positions: Int, bootstrapReplicates: Int, permutations: Int }),
  settings: z.array(GateSettingSchema),
  gates: z.array(GateDistributionSchema),
  timings: z.object({ totalMs: z.number() }),
});
export type GateClampRecord = z.output<typeof GateClampRecordSchema>;

export const FrozenTableRunSchema = z.object({
  seed: z.number().int(),
  learned: z.object({ dir: z.string(), bitsPerCode: MeanCISchema, samples: SampleMetricsSchema.nullable() }),
  frozen: z.object({ dir: z.string(), bitsPerCode: MeanCISchema, samples: SampleMetricsSchema.nullable() }),
  /** Paired per-grid frozen − learned bits/code. */
  deltaBitsPerCode: MeanCISchema,
  testBitsPerCode: ComparisonSchema,
  /** frozen − learned of each sample metric (value; CI from the metric CIs is not derived). */
  deltaSamples: z.record(z.string(), Num),
});

export const FrozenTableRecordSchema = z.object({
  probe: z.literal('frozen-table'),
  version: z.literal(1),
  createdAt: z.string(),
  inputs: z.object({ seeds: z.array(z.number().int()), sampleCount: Int, trained: z.boolean() }),
  counts: z.object({ grids: Int, positions: Int, bootstrapReplicates: Int, permutations: Int }),
  runs: z.array(FrozenTableRunSchema),
  /** Mean over seeds of the per-seed deltas. */
  summary: z.object({ deltaBitsPerCode: Num, deltaSamples: z.record(z.string(), Num) }),
  timings: z.object({ totalMs: z.number() }),
});
export type FrozenTableRecord = z.output<typeof FrozenTableRecordSchema>;

export const PositiveControlRecordSchema = z.object({
  probe: z.literal('positive-control'),
  version: z.literal(1),
  createdAt: z.string(),
  dataset: z.record(z.string(), z.unknown()),
  training: z.record(z.string(), z.unknown()).nullable(),
  gateClamp: GateClampRecordSchema,
  donor: DonorProbeRecordSchema,
  verdict: z.object({
    matchedVsRandomP: Num,
    /** Smallest control/donor KL ratio over (control, donor kind). */
    minControlRatio: Num,
    criteria: z.object({ pBelow: z.number(), ratioAtLeast: z.number() }),
    /** The issue's criteria: matchedVsRandomP < pBelow AND minControlRatio ≥ ratioAtLeast. */
    retrievalDetected: z.boolean(),
    /**
     * Smallest over donor kinds of KL where the donor's keys differ / KL where they agree. A
     * key-sensitive (retrieving) model has a large contrast whatever the control ratios say.
     */
    minKeyContrast: Num,
  }),
});
export type PositiveControlRecord = z.output<typeof PositiveControlRecordSchema>;

/** Replaces non-finite numbers by null, recursively (typed arrays become plain arrays). */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as Float64Array, jsonSafe);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

/** Validates with `schema` (errors name the field path) after making the value JSON-safe. */
export function makeRecord<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(jsonSafe(value));
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid probe record:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

export function modelInfo(model: LoadedModel): z.output<typeof ModelInfoSchema> {
  const m = model.manifest;
  return {
    dir: model.dir,
    onnx: m.onnx,
    vocab: m.vocab,
    numClasses: m.numClasses,
    grid: m.grid,
    engramLayers: m.engram?.layers ?? [],
    tableRows: m.engram?.tableRows ?? null,
    meta: m.meta,
  };
}

/** Writes a record as pretty JSON, atomically. */
export async function writeRecord(path: string, record: unknown): Promise<void> {
  await atomicWriteFile(path, `${JSON.stringify(jsonSafe(record), null, 2)}\n`);
}
