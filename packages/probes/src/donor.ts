// E3 donor probe (DESIGN.md §1). For each held-out grid the backbone reads the TRUE codes while the
// Engram hash reads a DONOR's codes (rowsOverride with rows from engram's rowsForGrids on the donor
// grid), and the table controls keep the true rows but replace the table (collapsed / randomised).
// Each condition is scored teacher-forced; the per-position KL(p_true ‖ p_probe) and JS against the
// unperturbed run are averaged per grid, then over grids with bootstrap CIs; donor kinds are compared
// with paired permutation tests (same grids, different donors) and every control is divided by every
// donor kind (ratio of mean KL with a paired bootstrap CI).
import { rowsForGrids } from '@engram-ar/engram';
import type { SessionOptions } from '@engram-ar/onnx';
import {
  type GateClamp,
  type LoadedModel,
  type RowsOverride,
  resolveGateClamp,
  resolveModel,
  score,
} from '@engram-ar/sampler';
import { Rng } from '@engram-ar/tensor/rng';
import { gridDivergence } from './divergence.js';
import { type DonorProbeRecord, DonorProbeRecordSchema, makeRecord, modelInfo } from './record.js';
import { bootstrapMean, bootstrapRatio, compare } from './stats.js';
import { controlTable, type TableControl, withTable } from './table-override.js';

export type DonorKind = 'matched' | 'adversarial' | 'random' | 'cross-class';
export const DONOR_KINDS: readonly DonorKind[] = ['matched', 'adversarial', 'random', 'cross-class'];
export const TABLE_CONTROLS: readonly TableControl[] = ['collapsed', 'randomised'];

export interface DonorPool {
  codes: Int32Array; // [M, H, W]
  labels: Int32Array; // [M]
}

export interface SelectDonorsOptions {
  grids: Int32Array; // [N, H, W]
  labels: Int32Array; // [N]
  /** Donor candidates; default: the grids themselves (each grid's own index excluded). */
  pool?: DonorPool;
  /** Cells per grid (H·W). */
  cells: number;
  kind: DonorKind;
  seed?: number | string;
  /** Skip candidates identical to the grid (Hamming 0: the probe would be a no-op). Default true. */
  excludeIdentical?: boolean;
}

function hamming(a: Int32Array, ai: number, b: Int32Array, bi: number, n: number): number {
  let d = 0;
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) d++;
  return d;
}

/**
 * Donor index into the pool for every grid. matched = nearest same-class candidate by code Hamming
 * distance, adversarial = farthest same-class, random = uniform same-class, cross-class = uniform
 * over the other classes. Ties go to the lowest pool index. Throws if a grid has no candidate.
 */
export function selectDonors(o: SelectDonorsOptions): { donors: Int32Array; distances: Int32Array } {
  const pool = o.pool ?? { codes: o.grids, labels: o.labels };
  const self = !o.pool;
  const n = o.cells;
  const N = o.labels.length;
  const M = pool.labels.length;
  if (o.grids.length !== N * n) throw new Error(`grids: length ${o.grids.length} != labels·cells ${N * n}`);
  if (pool.codes.length !== M * n) throw new Error(`pool.codes: length ${pool.codes.length} != ${M * n}`);
  const excludeIdentical = o.excludeIdentical ?? true;
  const rng = new Rng(o.seed ?? 0).split(`donors:${o.kind}`);
  const donors = new Int32Array(N);
  const distances = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const cls = o.labels[i]!;
    const cand: number[] = [];
    const dist: number[] = [];
    for (let j = 0; j < M; j++) {
      if (self && j === i) continue;
      const same = pool.labels[j] === cls;
      if (o.kind === 'cross-class' ? same : !same) continue;
      const d = hamming(o.grids, i * n, pool.codes, j * n, n);
      if (excludeIdentical && d === 0) continue;
      cand.push(j);
      dist.push(d);
    }
    if (cand.length === 0)
      throw new Error(`selectDonors(${o.kind}): grid ${i} (class ${cls}) has no donor candidate in the pool`);
    let pick = 0;
    if (o.kind === 'matched') for (let k = 1; k < cand.length; k++) pick = dist[k]! < dist[pick]! ? k : pick;
    else if (o.kind === 'adversarial')
      for (let k = 1; k < cand.length; k++) pick = dist[k]! > dist[pick]! ? k : pick;
    else pick = rng.int(cand.length);
    donors[i] = cand[pick]!;
    distances[i] = dist[pick]!;
  }
  return { donors, distances };
}

/** rowsOverride serving precomputed rows [N, H·W, R] to `score` batch by batch. */
export function rowsOverrideFrom(rows: Int32Array, positions: number, perPosition: number): RowsOverride {
  return (p, _grids, ctx) => {
    const b = ctx.shape[0];
    const out = new Int32Array(b * perPosition);
    for (let i = 0; i < b; i++) {
      const src = ((ctx.start + i) * positions + p) * perPosition;
      out.set(rows.subarray(src, src + perPosition), i * perPosition);
    }
    return out;
  };
}

export interface DonorProbeProgress {
  /** 'baseline', a donor kind or a control. */
  stage: string;
  done: number;
  total: number;
}

export interface DonorProbeOptions {
  model: string | LoadedModel;
  grids: Int32Array; // [N, H, W] held-out code grids
  labels: Int32Array; // [N]
  pool?: DonorPool;
  kinds?: readonly DonorKind[];
  controls?: readonly TableControl[];
  excludeIdentical?: boolean;
  /** Gate clamp applied to every condition (default learned). */
  gateClamp?: GateClamp;
  seed?: number | string;
  bootstrapReplicates?: number; // default 2000
  permutations?: number; // default 9999
  batchSize?: number;
  session?: SessionOptions;
  onProgress?: (p: DonorProbeProgress) => void;
}

export async function donorProbe(opts: DonorProbeOptions): Promise<DonorProbeRecord> {
  const t0 = performance.now();
  const { model, release } = await resolveModel(opts.model, opts.session);
  try {
    const m = model.manifest;
    if (!m.engram || !model.hash) throw new Error('donorProbe: the model has no Engram memory');
    const { height: H, width: W } = m.grid;
    const P = H * W;
    const V = m.vocab;
    const N = opts.labels.length;
    if (opts.grids.length !== N * P)
      throw new Error(`grids: length ${opts.grids.length} != labels (${N}) × H·W (${P})`);
    const kinds = opts.kinds ?? DONOR_KINDS;
    const controls = opts.controls ?? TABLE_CONTROLS;
    const root = opts.seed ?? 0;
    const replicates = opts.bootstrapReplicates ?? 2000;
    const permutations = opts.permutations ?? 9999;
    const excludeIdentical = opts.excludeIdentical ?? true;
    const bootSeed = `${root}/bootstrap`;
    const permSeed = `${root}/permutation`;
    const randSeed = `${root}/randomise`;
    const total = 1 + kinds.length + controls.length;
    let done = 0;
    let scoreRuns = 0;
    const tick = (stage: string) => opts.onProgress?.({ stage, done: ++done, total });
    const common = {
      codes: opts.grids,
      classes: opts.labels,
      gateClamp: opts.gateClamp,
      batchSize: opts.batchSize,
    };

    const truth = await score({ model, ...common });
    scoreRuns += truth.stats.runs;
    tick('baseline');
    const R = model.hash.rowsPerPosition;
    const trueRows = rowsForGrids(model.hash, opts.grids, [N, H, W], opts.labels);

    const conditions: DonorProbeRecord['conditions'] = [];
    const perGrid = new Map<string, Float64Array>();
    const summarise = async (
      name: string,
      kind: 'donor' | 'control',
      logProbs: Float32Array,
      rowsChanged: number,
      distances: Int32Array | null,
      changedMask?: Uint8Array,
    ) => {
      const d = gridDivergence(truth.logProbs, logProbs, N, P, V, changedMask);
      perGrid.set(name, d.kl);
      conditions.push({
        name,
        kind,
        kl: await bootstrapMean(d.kl, { replicates, seed: bootSeed }),
        js: await bootstrapMean(d.js, { replicates, seed: bootSeed }),
        klByPosition: Array.from(d.klByPosition),
        rowsChanged,
        infinitePositions: d.infinite,
        keySplit: d.split
          ? { changedPositions: d.split.fraction, klChanged: d.split.klMasked, klSame: d.split.klUnmasked }
          : null,
        donorDistance: distances
          ? {
              mean: distances.reduce((a, b) => a + b, 0) / N,
              min: Math.min(...distances),
              max: Math.max(...distances),
            }
          : null,
      });
    };

    for (const kind of kinds) {
      const { donors, distances } = selectDonors({
        grids: opts.grids,
        labels: opts.labels,
        pool: opts.pool,
        cells: P,
        kind,
        seed: `${root}/donors`,
        excludeIdentical,
      });
      const pool = opts.pool ?? { codes: opts.grids, labels: opts.labels };
      const donorCodes = new Int32Array(N * P);
      const donorClasses = new Int32Array(N);
      for (let i = 0; i < N; i++) {
        donorCodes.set(pool.codes.subarray(donors[i]! * P, (donors[i]! + 1) * P), i * P);
        donorClasses[i] = pool.labels[donors[i]!]!;
      }
      // The whole hash input is the donor's, including its class when the model is classKeyed.
      const rows = rowsForGrids(model.hash, donorCodes, [N, H, W], donorClasses);
      let changed = 0;
      const mask = new Uint8Array(N * P);
      for (let k = 0; k < rows.length; k++)
        if (rows[k] !== trueRows[k]) {
          changed++;
          mask[Math.floor(k / R)] = 1;
        }
      const probe = await score({ model, ...common, rowsOverride: rowsOverrideFrom(rows, P, R) });
      scoreRuns += probe.stats.runs;
      await summarise(kind, 'donor', probe.logProbs, changed / rows.length, distances, mask);
      tick(kind);
    }

    for (const control of controls) {
      const table = await controlTable(model, control, randSeed);
      const swapped = await withTable(model, table, opts.session);
      try {
        const probe = await score({ model: swapped, ...common });
        scoreRuns += probe.stats.runs;
        await summarise(control, 'control', probe.logProbs, 0, null);
      } finally {
        await swapped.session.release();
      }
      tick(control);
    }

    const comparisons: DonorProbeRecord['comparisons'] = [];
    for (let a = 0; a < kinds.length; a++)
      for (let b = a + 1; b < kinds.length; b++) {
        const c = compare(perGrid.get(kinds[a]!)!, perGrid.get(kinds[b]!)!, {
          paired: true,
          permutations,
          seed: permSeed,
        });
        comparisons.push({ a: kinds[a]!, b: kinds[b]!, metric: 'kl', ...c });
      }
    const ratios: DonorProbeRecord['ratios'] = [];
    for (const c of controls)
      for (const k of kinds)
        ratios.push({
          numerator: c,
          denominator: k,
          ratio: await bootstrapRatio(perGrid.get(c)!, perGrid.get(k)!, { replicates, seed: bootSeed }),
        });

    return makeRecord(DonorProbeRecordSchema, {
      probe: 'donor',
      version: 1,
      createdAt: new Date().toISOString(),
      model: modelInfo(model),
      inputs: {
        kinds: [...kinds],
        controls: [...controls],
        poolSize: opts.pool ? opts.pool.labels.length : N,
        poolIsGrids: !opts.pool,
        excludeIdentical,
        gateClamp: Array.from(resolveGateClamp(m, opts.gateClamp), (v) => (v < 0 ? null : v)),
      },
      seeds: {
        root,
        donors: `${root}/donors`,
        randomise: randSeed,
        bootstrap: bootSeed,
        permutation: permSeed,
      },
      counts: { grids: N, positions: P, vocab: V, bootstrapReplicates: replicates, permutations },
      conditions,
      comparisons,
      ratios,
      timings: { totalMs: performance.now() - t0, scoreRuns },
    });
  } finally {
    await release();
  }
}
