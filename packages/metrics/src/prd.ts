// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
// balls around its points with radius = distance to the point's k-th nearest neighbour within the
// set (k = 3). Precision = share of generated points inside the real manifold; recall = share of
// real points inside the generated manifold. Squared distances ‖a‖² + ‖b‖² − 2 a·b are computed
// in row blocks with the matrix-product engine, so memory stays O(block × N).
import { type EngineName, getEngine, type MatmulEngine } from './matmul.js';
import type { Features } from './stats.js';

export interface PrecisionRecallOptions {
  k?: number; // default 3
  engine?: EngineName | MatmulEngine;
  /** Rows per distance block; default keeps a block at ~8M distances (≈128 MB with the engine's buffers). */
  blockRows?: number;
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
}

function toF64(x: Features): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

function sqNorms(x: Float64Array, n: number, dim: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j]! ** 2;
    out[i] = s;
  }
  return out;
}

/** Calls visit(i, row) with the squared distances from rows of `a` to every row of `b`. */
async function forEachDistanceRow(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  dim: number,
  engine: MatmulEngine,
  block: number | undefined,
  visit: (i: number, d2: Float64Array) => void,
): Promise<void> {
  const an = sqNorms(a, na, dim);
  const bn = sqNorms(b, nb, dim);
  const row = new Float64Array(nb);
  block ??= Math.max(16, Math.min(4096, Math.floor(2 ** 23 / Math.max(nb, 1))));
  for (let i0 = 0; i0 < na; i0 += block) {
    const rows = Math.min(block, na - i0);
    const dots = await engine.dotRows(a.subarray(i0 * dim, (i0 + rows) * dim), rows, b, nb, dim);
    for (let r = 0; r < rows; r++) {
      const ai = an[i0 + r]!;
      for (let j = 0; j < nb; j++) row[j] = Math.max(ai + bn[j]! - 2 * dots[r * nb + j]!, 0);
      visit(i0 + r, row);
    }
  }
}

/** Squared distance of every row to its k-th nearest neighbour in the same set (self excluded). */
export async function kthNeighbourRadii(
  x: Features,
  dim: number,
  opts: { k?: number; engine?: EngineName | MatmulEngine; blockRows?: number } = {},
): Promise<Float64Array> {
  const k = opts.k ?? 3;
  const n = x.length / dim;
  if (!Number.isInteger(n) || n <= k)
    throw new Error(`kthNeighbourRadii: need more than k = ${k} rows, got ${n}`);
  const xf = toF64(x);
  const engine = await getEngine(opts.engine);
  const radii = new Float64Array(n);
  const best = new Float64Array(k + 1);
  await forEachDistanceRow(xf, n, xf, n, dim, engine, opts.blockRows, (i, d2) => {
    // the k+1 smallest (the row itself, at distance ~0, is one of them), kept sorted ascending
    best.fill(Number.POSITIVE_INFINITY);
    for (let j = 0; j < d2.length; j++) {
      const v = j === i ? 0 : d2[j]!;
      if (v >= best[k]!) continue;
      let p = k;
      while (p > 0 && best[p - 1]! > v) {
        best[p] = best[p - 1]!;
        p--;
      }
      best[p] = v;
    }
    radii[i] = best[k]!;
  });
  return radii;
}

/** Share of rows of `query` within radius of at least one row of `support` (radii squared). */
async function coverage(
  query: Float64Array,
  nq: number,
  support: Float64Array,
  ns: number,
  radii2: Float64Array,
  dim: number,
  engine: MatmulEngine,
  block: number | undefined,
): Promise<number> {
  let inside = 0;
  await forEachDistanceRow(query, nq, support, ns, dim, engine, block, (_, d2) => {
    for (let j = 0; j < ns; j++) {
      if (d2[j]! <= radii2[j]!) {
        inside++;
        return;
      }
    }
  });
  return inside / nq;
}

/** Improved precision/recall of `fake` [M, D] against `real` [N, D]. */
export async function precisionRecall(
  real: Features,
  fake: Features,
  dim: number,
  opts: PrecisionRecallOptions = {},
): Promise<PrecisionRecall> {
  const engine = await getEngine(opts.engine);
  const block = opts.blockRows;
  const r = toF64(real);
  const f = toF64(fake);
  const nr = r.length / dim;
  const nf = f.length / dim;
  const rr = await kthNeighbourRadii(r, dim, { k: opts.k, engine, blockRows: block });
  const fr = await kthNeighbourRadii(f, dim, { k: opts.k, engine, blockRows: block });
  return {
    precision: await coverage(f, nf, r, nr, rr, dim, engine, block),
    recall: await coverage(r, nr, f, nf, fr, dim, engine, block),
  };
}
