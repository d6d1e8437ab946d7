// Generation and teacher-forced scoring with ONNX Runtime.
//
// generate(): gpt-fast style KV-cache loop. Step 0 feeds the class token, step p ≥ 1 feeds code
// p-1; every step is one T = 1 run of the step graph whose logits row predicts code p. With CFG the
// batch holds the conditional rows then the same grids under the null class, and both halves get
// the code drawn from `uncond + s·(cond − uncond)`. Engram rows for step p are hashed on the host
// from the codes < p (O(1) per row, independent of table size). Sample i draws from
// Rng(seed).split(i), so codes do not depend on batchSize.
//
// score(): one prefill pass per batch over [class, codes[0..N-2]] gives every position's
// next-code log-probs and gates — the basis of NLL and of the donor probes.
import { rowsForGrids, rowsForNextBatch } from '@engram-ar/engram';
import { type FeedValue, KvCacheBuffer, ort, type SessionOptions } from '@engram-ar/onnx';
import { Rng } from '@engram-ar/tensor/rng';
import { type LoadedModel, resolveModel } from './load.js';
import type { ModelManifest } from './manifest.js';
import { applyCfg, logSoftmax, resolveSampling, type SamplingOptions, sampleLogits } from './sampling.js';

/** Gate clamp: one constant for every Engram layer, or one per layer; null / negative = learned gate. */
export type GateClamp = number | ArrayLike<number | null> | null;

export interface RowsContext {
  /** Index (in the whole run) of the first grid of this batch. */
  start: number;
  /** Classes of the batch's grids. [b] */
  classes: Int32Array;
  /** [b, H, W] */
  shape: readonly [number, number, number];
}

/**
 * Replaces the Engram row ids of step `step` (the position being predicted) for a batch:
 * grids [b, H, W] hold every code < step; return global row ids [b, Le, S·K], or null to keep
 * the hash of `grids`. The probes feed a donor's hash inputs through it.
 */
export type RowsOverride = (
  step: number,
  grids: Int32Array,
  ctx: RowsContext,
) => Int32Array | null | undefined;

export interface GenerateProgress {
  /** Finished images. */
  done: number;
  total: number;
  /** Codes sampled so far (all batches) and in the whole run. */
  codes: number;
  totalCodes: number;
  elapsedMs: number;
  codesPerSec: number;
  etaMs: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Model directory (with model.json) or a model from loadModel. */
  model: string | LoadedModel;
  /** One class for every sample or one per sample (the null class is allowed). */
  classes: number | ArrayLike<number>;
  n: number;
  /** Classifier-free guidance scale; 1 (default) disables CFG and its unconditional half. */
  cfgScale?: number;
  seed: number | string;
  /** Grids per ORT batch (the session sees twice as many rows with CFG). Default 64. */
  batchSize?: number;
  gateClamp?: GateClamp;
  rowsOverride?: RowsOverride;
  onProgress?: (p: GenerateProgress) => void;
  session?: SessionOptions;
}

export interface RunStats {
  /** Wall time inside session.run. */
  ortMs: number;
  /** Host time building Engram rows (hash or rowsOverride) and feeds. */
  hashMs: number;
  /** Host time in CFG + sampling (generate) or log-softmax (score). */
  sampleMs: number;
  /** Host time carrying caches between steps (KV buffer appends). */
  cacheMs: number;
  totalMs: number;
  /** session.run calls. */
  runs: number;
}

export interface GenerateResult {
  codes: Int32Array; // [n, H, W]
  classes: Int32Array; // [n]
  /** Gate actually applied, conditional rows. [n, H·W, Le]; null for the baseline. */
  gates: Float32Array | null;
  stats: RunStats;
}

export function resolveGateClamp(m: ModelManifest, clamp: GateClamp | undefined): Float32Array {
  const Le = m.engram?.layers.length ?? 0;
  const out = new Float32Array(Le).fill(-1);
  if (clamp === null || clamp === undefined) return out;
  if (typeof clamp === 'number') return out.fill(clamp < 0 ? -1 : clamp);
  if (clamp.length !== Le)
    throw new Error(`gateClamp: expected ${Le} values (one per Engram layer), got ${clamp.length}`);
  for (let l = 0; l < Le; l++) {
    const v = clamp[l];
    out[l] = v === null || v === undefined || v < 0 ? -1 : v;
  }
  return out;
}

function resolveClasses(m: ModelManifest, classes: number | ArrayLike<number>, n: number): Int32Array {
  const out = typeof classes === 'number' ? new Int32Array(n).fill(classes) : Int32Array.from(classes);
  if (out.length !== n) throw new Error(`classes: expected ${n} class ids, got ${out.length}`);
  out.forEach((c, i) => {
    if (!(Number.isInteger(c) && c >= 0 && c <= m.nullClass))
      throw new Error(`classes[${i}]: ${c} is not a class id in [0, ${m.nullClass}]`);
  });
  return out;
}

/** Empty past caches (P = 0) for the step graph, or, with `buffers`, the decode graph's host caches. */
function emptyCaches(m: ModelManifest, R: number, buffers?: KvCacheBuffer[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; buffers && i < m.nLayer; i++) {
    feeds[`key_cache.${i}`] = buffers[i]!.keyTensor;
    feeds[`value_cache.${i}`] = buffers[i]!.valueTensor;
  }
  for (let i = 0; !buffers && i < m.nLayer; i++) {
    feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', new Float32Array(0), [
      R,
      m.nHead,
      0,
      m.headDim,
    ]);
    feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', new Float32Array(0), [
      R,
      m.nHead,
      0,
      m.headDim,
    ]);
  }
  const conv = m.engram?.conv;
  if (conv) {
    const L = (conv.kernel - 1) * conv.dilation;
    m.engram!.layers.forEach((_, l) => {
      feeds[`conv_state.${l}`] = new ort.Tensor('float32', new Float32Array(R * L * m.dim), [R, L, m.dim]);
    });
  }
  return feeds;
}

/**
 * Feeds the next step's caches from this step's outputs: present tensors go straight back (step
 * graph), or the new rows are appended to the host buffers (decode graph).
 */
function carryCaches(
  m: ModelManifest,
  out: Record<string, ort.Tensor>,
  feeds: Record<string, unknown>,
  buffers?: KvCacheBuffer[],
): void {
  for (let i = 0; buffers && i < m.nLayer; i++) {
    const t = out[`new_key.${i}`]!.dims[2]!;
    buffers[i]!.append(
      out[`new_key.${i}`]!.data as Float32Array,
      out[`new_value.${i}`]!.data as Float32Array,
      t,
    );
  }
  if (buffers) feeds.past_length = buffers[0]!.lengthTensor();
  for (let i = 0; !buffers && i < m.nLayer; i++) {
    feeds[`past_key_values.${i}.key`] = out[`present.${i}.key`];
    feeds[`past_key_values.${i}.value`] = out[`present.${i}.value`];
  }
  const Le = m.engram?.conv ? m.engram.layers.length : 0;
  for (let l = 0; l < Le; l++) feeds[`conv_state.${l}`] = out[`present_conv_state.${l}`];
}

function checkRows(rows: Int32Array, want: number, tableRows: number, where: string): Int32Array {
  if (rows.length !== want) throw new Error(`${where}: returned ${rows.length} row ids, expected ${want}`);
  for (let i = 0; i < rows.length; i++)
    if (!(rows[i]! >= 0 && rows[i]! < tableRows))
      throw new RangeError(`${where}: row id ${rows[i]} at ${i} outside [0, ${tableRows})`);
  return rows;
}

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const { model, release } = await resolveModel(opts.model, opts.session);
  try {
    const m = model.manifest;
    const { height: H, width: W } = m.grid;
    const N = H * W;
    const V = m.vocab;
    const n = opts.n;
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`n: expected an integer ≥ 0, got ${n}`);
    const classes = resolveClasses(m, opts.classes, n);
    const sampling = resolveSampling(opts);
    const cfgScale = opts.cfgScale ?? 1;
    if (!Number.isFinite(cfgScale)) throw new Error(`cfgScale: expected a finite number, got ${cfgScale}`);
    const cfg = cfgScale !== 1;
    const batchSize = opts.batchSize ?? 64;
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new Error(`batchSize: expected an integer ≥ 1, got ${batchSize}`);
    const clamp = resolveGateClamp(m, opts.gateClamp);
    const Le = m.engram?.layers.length ?? 0;
    const rowsPer = Le * (m.engram?.rowsPerLayer ?? 0);
    const codes = new Int32Array(n * N);
    const gates = Le ? new Float32Array(n * N * Le) : null;
    const root = new Rng(opts.seed);
    const stats: RunStats = { ortMs: 0, hashMs: 0, sampleMs: 0, cacheMs: 0, totalMs: 0, runs: 0 };
    const scratch = new Float32Array(V);
    let sampled = 0;
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const R = cfg ? 2 * b : b;
      const grids = codes.subarray(start * N, (start + b) * N); // filled in place, [b, H, W]
      const condCls = classes.subarray(start, start + b);
      const nullCls = new Int32Array(b).fill(m.nullClass);
      const rowCls = new Int32Array(R);
      rowCls.set(condCls);
      if (cfg) rowCls.set(nullCls, b);
      const rngs = Array.from({ length: b }, (_, i) => root.split(start + i));
      const ids = new BigInt64Array(R);
      const pos = new BigInt64Array(R);
      const rows64 = new BigInt64Array(R * rowsPer);
      // The decode graph (host KV cache, nothing big crosses into JS) when exported, else the step graph.
      const session = model.decode ?? model.session;
      const buffers = model.decode
        ? Array.from(
            { length: m.nLayer },
            () => new KvCacheBuffer({ batch: R, heads: m.nHead, headDim: m.headDim, maxLength: N }),
          )
        : undefined;
      const feeds: Record<string, ort.Tensor> = {
        ...emptyCaches(m, R, buffers),
        ...(buffers ? { past_length: buffers[0]!.lengthTensor() } : {}),
        input_ids: new ort.Tensor('int64', ids, [R, 1]),
        position_ids: new ort.Tensor('int64', pos, [R, 1]),
      };
      if (Le) {
        feeds.engram_rows = new ort.Tensor('int64', rows64, [R, 1, Le, m.engram!.rowsPerLayer]);
        feeds.gate_clamp = new ort.Tensor('float32', clamp, [Le]);
      }
      const ctx: RowsContext = { start, classes: condCls, shape: [b, H, W] };
      for (let p = 0; p < N; p++) {
        const th = performance.now();
        for (let r = 0; r < R; r++) {
          const i = r % b;
          ids[r] = BigInt(p === 0 ? m.classTokenOffset + rowCls[r]! : grids[i * N + p - 1]!);
          pos[r] = BigInt(p);
        }
        if (Le) {
          const hash = model.hash!;
          const over = opts.rowsOverride?.(p, grids, ctx);
          const cond = over
            ? checkRows(over, b * rowsPer, m.engram!.tableRows, 'rowsOverride')
            : rowsForNextBatch(hash, grids, [b, H, W], p, condCls);
          for (let j = 0; j < b * rowsPer; j++) rows64[j] = BigInt(cond[j]!);
          if (cfg) {
            const unc =
              !over && hash.classKeyed ? rowsForNextBatch(hash, grids, [b, H, W], p, nullCls) : cond;
            for (let j = 0; j < b * rowsPer; j++) rows64[b * rowsPer + j] = BigInt(unc[j]!);
          }
        }
        const tr = performance.now();
        stats.hashMs += tr - th;
        const out = await session.raw.run(feeds);
        const ts = performance.now();
        stats.ortMs += ts - tr;
        stats.runs++;
        const logits = out.logits!.data as Float32Array; // [R, 1, V]
        for (let i = 0; i < b; i++) {
          let src: Float32Array;
          if (cfg)
            src = applyCfg(
              logits.subarray(i * V, (i + 1) * V),
              logits.subarray((b + i) * V, (b + i + 1) * V),
              cfgScale,
              scratch,
            );
          else src = logits.subarray(i * V, (i + 1) * V);
          grids[i * N + p] = sampleLogits(src, sampling, rngs[i]!);
        }
        if (gates) {
          const g = out.engram_gate!.data as Float32Array; // [R, 1, Le]
          for (let i = 0; i < b; i++)
            for (let l = 0; l < Le; l++) gates[((start + i) * N + p) * Le + l] = g[i * Le + l]!;
        }
        const tc = performance.now();
        stats.sampleMs += tc - ts;
        carryCaches(m, out, feeds, buffers);
        stats.cacheMs += performance.now() - tc;
        sampled += b;
        if (opts.onProgress) {
          const elapsedMs = performance.now() - t0;
          const codesPerSec = sampled / (elapsedMs / 1000);
          opts.onProgress({
            done: start + (p === N - 1 ? b : 0),
            total: n,
            codes: sampled,
            totalCodes: n * N,
            elapsedMs,
            codesPerSec,
            etaMs: ((n * N - sampled) / codesPerSec) * 1000,
          });
        }
      }
    }
    stats.totalMs = performance.now() - t0;
    return { codes, classes, gates, stats };
  } finally {
    await release();
  }
}

export interface ScoreOptions {
  model: string | LoadedModel;
  codes: Int32Array; // [N, H, W]
  /** One class for every grid or one per grid. */
  classes: number | ArrayLike<number>;
  gateClamp?: GateClamp;
  rowsOverride?: RowsOverride;
  /** Grids per ORT run. Default 16. */
  batchSize?: number;
  session?: SessionOptions;
}

export interface ScoreResult {
  /** log p(code at position p | codes < p, class) for every code value. [N, H·W, V] */
  logProbs: Float32Array;
  /** −Σ_p log p(true code p), nats per grid. [N] */
  nll: Float64Array;
  /** Gate actually applied. [N, H·W, Le]; null for the baseline. */
  gates: Float32Array | null;
  stats: RunStats;
}

export async function score(opts: ScoreOptions): Promise<ScoreResult> {
  const t0 = performance.now();
  const { model, release } = await resolveModel(opts.model, opts.session);
  try {
    const m = model.manifest;
    const { height: H, width: W } = m.grid;
    const N = H * W;
    const V = m.vocab;
    if (opts.codes.length % N !== 0)
      throw new Error(`codes: length ${opts.codes.length} is not a multiple of H·W = ${N}`);
    const G = opts.codes.length / N;
    opts.codes.forEach((c, i) => {
      if (!(c >= 0 && c < V)) throw new RangeError(`codes[${i}]: ${c} outside [0, ${V})`);
    });
    const classes = resolveClasses(m, opts.classes, G);
    const clamp = resolveGateClamp(m, opts.gateClamp);
    const batchSize = opts.batchSize ?? 16;
    const Le = m.engram?.layers.length ?? 0;
    const rowsPer = Le * (m.engram?.rowsPerLayer ?? 0);
    const logProbs = new Float32Array(G * N * V);
    const nll = new Float64Array(G);
    const gates = Le ? new Float32Array(G * N * Le) : null;
    const stats: RunStats = { ortMs: 0, hashMs: 0, sampleMs: 0, cacheMs: 0, totalMs: 0, runs: 0 };
    for (let start = 0; start < G; start += batchSize) {
      const b = Math.min(batchSize, G - start);
      const grids = opts.codes.subarray(start * N, (start + b) * N);
      const cls = classes.subarray(start, start + b);
      const th = performance.now();
      const ids = new BigInt64Array(b * N);
      const pos = new BigInt64Array(b * N);
      for (let i = 0; i < b; i++)
        for (let p = 0; p < N; p++) {
          ids[i * N + p] = BigInt(p === 0 ? m.classTokenOffset + cls[i]! : grids[i * N + p - 1]!);
          pos[i * N + p] = BigInt(p);
        }
      const feeds: Record<string, ort.Tensor | FeedValue> = {
        ...emptyCaches(m, b),
        input_ids: new ort.Tensor('int64', ids, [b, N]),
        position_ids: new ort.Tensor('int64', pos, [b, N]),
      };
      if (Le) {
        const rows = rowsForGrids(model.hash!, grids, [b, H, W], cls); // [b, N, Le·S·K]
        if (opts.rowsOverride) {
          const ctx: RowsContext = { start, classes: cls, shape: [b, H, W] };
          for (let p = 0; p < N; p++) {
            const over = opts.rowsOverride(p, grids, ctx);
            if (!over) continue;
            checkRows(over, b * rowsPer, m.engram!.tableRows, 'rowsOverride');
            for (let i = 0; i < b; i++)
              rows.set(over.subarray(i * rowsPer, (i + 1) * rowsPer), (i * N + p) * rowsPer);
          }
        }
        feeds.engram_rows = new ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [
          b,
          N,
          Le,
          m.engram!.rowsPerLayer,
        ]);
        feeds.gate_clamp = new ort.Tensor('float32', clamp, [Le]);
      }
      const tr = performance.now();
      stats.hashMs += tr - th;
      const out = await model.session.run(feeds, ['logits', ...(Le ? ['engram_gate'] : [])]);
      const ts = performance.now();
      stats.ortMs += ts - tr;
      stats.runs++;
      const logits = out.logits!.data as Float32Array; // [b, N, V]
      const base = start * N * V;
      for (let r = 0; r < b * N; r++) logSoftmax(logits, r * V, V, logProbs, base + r * V);
      for (let i = 0; i < b; i++) {
        let s = 0;
        for (let p = 0; p < N; p++) s -= logProbs[base + (i * N + p) * V + grids[i * N + p]!]!;
        nll[start + i] = s;
      }
      if (gates) gates.set(out.engram_gate!.data as Float32Array, start * N * Le);
      stats.sampleMs += performance.now() - ts;
    }
    stats.totalMs = performance.now() - t0;
    return { logProbs, nll, gates, stats };
  } finally {
    await release();
  }
}
