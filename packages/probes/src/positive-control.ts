// E5 positive control (DESIGN.md §1): the E2 gate-clamp and E3 donor protocols on a model trained on
// rule textures, where each code is (with prob. 1 − ε) a per-class function of its (L, U) neighbours,
// i.e. exactly what an order-2 Engram stencil keys on. The verdict applies the criteria:
// matched vs random donors differ with p < pBelow AND every table control degrades KL by at least
// ratioAtLeast × every donor kind. The datasets package builds the textures (makeRuleTextures); the
// app or a script trains the model (the backbone trainer) — both arrive here as data / a callback.
import type { LoadedModel } from '@engram-ar/sampler';
import { type DonorProbeOptions, donorProbe } from './donor.js';
import { type GateClampOptions, gateClampProbe } from './gate-clamp.js';
import { makeRecord, type PositiveControlRecord, PositiveControlRecordSchema } from './record.js';

/** A split of code grids (structurally the datasets' CodeGridDataset / the trainer's CodeGridSet). */
export interface CodeGrids {
  codes: Int32Array; // [N, H, W]
  labels: Int32Array; // [N]
  numClasses: number;
  vocab: number;
  height: number;
  width: number;
}

export interface PositiveControlOptions {
  train: CodeGrids;
  test: CodeGrids;
  /** Dataset parameters recorded as given (e.g. makeRuleTextures' config). */
  datasetInfo: Record<string, unknown>;
  /** A trained, exported model; or `fit`, which trains one on (train, test) and returns its dir. */
  model?: string | LoadedModel;
  fit?: (train: CodeGrids, test: CodeGrids) => Promise<{ dir: string; info: Record<string, unknown> }>;
  /** Held-out grids probed (the first ones of `test`). Default 200. */
  evalCount?: number;
  /** Donor candidates: the first poolCount grids of `train`. Default 2000. */
  poolCount?: number;
  seed?: number | string;
  criteria?: { pBelow?: number; ratioAtLeast?: number };
  donor?: Partial<Omit<DonorProbeOptions, 'model' | 'grids' | 'labels' | 'pool'>>;
  gateClamp?: Partial<Omit<GateClampOptions, 'model' | 'grids' | 'labels'>>;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

export async function positiveControl(o: PositiveControlOptions): Promise<PositiveControlRecord> {
  let model = o.model;
  let training: Record<string, unknown> | null = null;
  if (!model) {
    if (!o.fit) throw new Error('positiveControl: give a trained `model` or a `fit` callback');
    const r = await o.fit(o.train, o.test);
    model = r.dir;
    training = r.info;
  }
  const P = o.test.height * o.test.width;
  const n = Math.min(o.evalCount ?? 200, o.test.labels.length);
  const grids = o.test.codes.subarray(0, n * P);
  const labels = o.test.labels.subarray(0, n);
  const m = Math.min(o.poolCount ?? 2000, o.train.labels.length);
  const pool = { codes: o.train.codes.subarray(0, m * P), labels: o.train.labels.subarray(0, m) };
  const seed = o.seed ?? 0;
  const gate = await gateClampProbe({
    ...o.gateClamp,
    model,
    grids,
    labels,
    seed,
    onProgress: (p) => o.onProgress?.({ ...p, stage: `gate-clamp ${p.stage}` }),
  });
  const donor = await donorProbe({
    ...o.donor,
    model,
    grids,
    labels,
    pool,
    seed,
    onProgress: (p) => o.onProgress?.({ ...p, stage: `donor ${p.stage}` }),
  });
  const pBelow = o.criteria?.pBelow ?? 0.01;
  const ratioAtLeast = o.criteria?.ratioAtLeast ?? 10;
  const mr = donor.comparisons.find(
    (c) => (c.a === 'matched' && c.b === 'random') || (c.a === 'random' && c.b === 'matched'),
  );
  const donorKinds = new Set(donor.conditions.filter((c) => c.kind === 'donor').map((c) => c.name));
  const ratios = donor.ratios.filter((r) => donorKinds.has(r.denominator)).map((r) => r.ratio.mean);
  const minRatio =
    ratios.length && ratios.every((r) => r !== null) ? Math.min(...(ratios as number[])) : null;
  const p = mr?.pValue ?? null;
  const contrasts = donor.conditions
    .filter((c) => c.kind === 'donor' && c.keySplit)
    .map((c) => (c.keySplit!.klChanged ?? Number.NaN) / (c.keySplit!.klSame ?? Number.NaN));
  return makeRecord(PositiveControlRecordSchema, {
    probe: 'positive-control',
    version: 1,
    createdAt: new Date().toISOString(),
    dataset: { ...o.datasetInfo, evalCount: n, poolCount: m },
    training,
    gateClamp: gate,
    donor,
    verdict: {
      matchedVsRandomP: p,
      minControlRatio: minRatio,
      criteria: { pBelow, ratioAtLeast },
      retrievalDetected: p !== null && p < pBelow && minRatio !== null && minRatio >= ratioAtLeast,
      minKeyContrast: contrasts.length ? Math.min(...contrasts) : null,
    },
  });
}
