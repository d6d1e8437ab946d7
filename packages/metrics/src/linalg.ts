// Dense symmetric linear algebra in float64 for the Fréchet distance: a Householder
// tridiagonalisation + implicit QL eigensolver, a pivoted Cholesky factorisation for positive
// semi-definite matrices, and the few "dot of rows" products FID needs.
//
// Every matrix is a flat row-major Float64Array `[n, n]`. Loops run along rows (contiguous memory)
// wherever the maths allows; a symmetric matrix is read from its lower triangle only.

export interface SymEig {
  values: Float64Array; // [n], ascending
  /** [n, n]; ROW j is the unit eigenvector of values[j] (i.e. Vᵀ in row-major order). */
  vectors?: Float64Array;
}

export class ConvergenceError extends Error {}

const EPS = 2 ** -52;
const MAX_QL_ITERATIONS = 64; // per eigenvalue; implicit QL needs ~1.5 on average

function checkSquare(a: Float64Array, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: n must be a positive integer, got ${n}`);
  if (a.length !== n * n) throw new Error(`${what}: matrix has ${a.length} entries, expected n² = ${n * n}`);
}

function hypot(a: number, b: number): number {
  // Math.hypot is slow in V8; this scaled form cannot overflow either.
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/**
 * Householder reduction of the symmetric `a` (lower triangle read, `a` overwritten) to tridiagonal
 * form T = Qᵀ A Q. Returns diagonal `d` [n] and sub-diagonal `e` [n] (e[i] = T[i, i-1], e[0] = 0).
 * Row i of `a` keeps the Householder vector of step i and `hs[i]` its scale, for `accumulateQ`.
 *
 * Step i reduces row i with P = I - u uᵀ / h and applies A ← P A P to the leading block as the
 * rank-2 update A -= u qᵀ + q uᵀ. That update is applied lazily, fused with the next step's
 * matrix–vector product, so each step reads and writes the lower triangle exactly once.
 */
function tridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array; hs: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hs = new Float64Array(n);
  let pu = new Float64Array(n); // pending update vectors (u, q) of the previous step
  let pq = new Float64Array(n);
  let hasPending = false;
  let u = new Float64Array(n);
  let p = new Float64Array(n);
  for (let i = n - 1; i >= 1; i--) {
    const ri = i * n;
    // 1. bring row i (the row this step reduces) up to date
    if (hasPending) {
      const ui = pu[i]!;
      const qi = pq[i]!;
      for (let k = 0; k <= i; k++) a[ri + k]! -= ui * pq[k]! + qi * pu[k]!;
    }
    d[i] = a[ri + i]!;
    const l = i - 1;
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!);
    let h = 0;
    if (l === 0 || scale === 0) {
      // nothing to annihilate; still apply the pending update to the remaining block
      e[i] = a[ri + l]!;
      if (hasPending) {
        for (let r = 0; r <= l; r++) {
          const o = r * n;
          const ur = pu[r]!;
          const qr = pq[r]!;
          for (let k = 0; k <= r; k++) a[o + k]! -= ur * pq[k]! + qr * pu[k]!;
        }
      }
      for (let k = 0; k <= l; k++) a[ri + k] = 0;
      hs[i] = 0;
      hasPending = false;
      continue;
    }
    for (let k = 0; k <= l; k++) {
      const v = a[ri + k]! / scale;
      u[k] = v;
      h += v * v;
    }
    const f = u[l]!;
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    u[l] = f - g;
    // 2. fused pass over rows 0..l: apply the pending update, then accumulate p = A u
    p.fill(0, 0, l + 1);
    for (let r = 0; r <= l; r++) {
      const o = r * n;
      const ur = u[r]!;
      let s = 0;
      if (hasPending) {
        const pur = pu[r]!;
        const pqr = pq[r]!;
        for (let k = 0; k < r; k++) {
          const v = a[o + k]! - (pur * pq[k]! + pqr * pu[k]!);
          a[o + k] = v;
          s += v * u[k]!;
          p[k]! += v * ur;
        }
        a[o + r]! -= 2 * pur * pqr;
      } else {
        for (let k = 0; k < r; k++) {
          const v = a[o + k]!;
          s += v * u[k]!;
          p[k]! += v * ur;
        }
      }
      p[r]! += s + a[o + r]! * ur;
    }
    // 3. q = p/h - K u with K = uᵀp / (2h²); the block update is A -= u qᵀ + q uᵀ
    let up = 0;
    for (let k = 0; k <= l; k++) {
      p[k]! /= h;
      up += u[k]! * p[k]!;
    }
    const kk = up / (2 * h);
    for (let k = 0; k <= l; k++) p[k]! -= kk * u[k]!;
    // keep u (unscaled vector) in row i for the eigenvector accumulation
    for (let k = 0; k <= l; k++) a[ri + k] = u[k]!;
    hs[i] = h;
    [pu, u] = [u, pu];
    [pq, p] = [p, pq];
    hasPending = true;
  }
  if (hasPending) a[0]! -= 2 * pu[0]! * pq[0]!;
  d[0] = a[0]!;
  return { d, e, hs };
}

/** Qᵀ (row-major) from the Householder vectors left in `a` by `tridiagonalize`. */
function accumulateQt(a: Float64Array, n: number, hs: Float64Array): Float64Array {
  // Q = P_{n-1} ⋯ P_1 (the order the reflections were applied), so Qᵀ = P_1 ⋯ P_{n-1}; build it
  // left to right. After step i-1 the product differs from I only in the block [0, i-1), so
  // M ← M P_i touches rows and columns 0..i-1 only, one contiguous row at a time.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  for (let i = 1; i < n; i++) {
    const h = hs[i]!;
    if (h === 0) continue;
    const ri = i * n;
    for (let r = 0; r < i; r++) {
      const o = r * n;
      let t = 0;
      for (let k = 0; k < i; k++) t += m[o + k]! * a[ri + k]!;
      t /= h;
      for (let k = 0; k < i; k++) m[o + k]! -= t * a[ri + k]!;
    }
  }
  return m;
}

/**
 * Implicit QL with Wilkinson-style shifts on the tridiagonal (d, e) (EISPACK tql2). Rotations are
 * applied to the rows of `zt` (= Zᵀ), two contiguous rows per rotation. Sorts ascending.
 */
export function tridiagonalQl(
  d: Float64Array,
  e: Float64Array,
  n: number,
  zt: Float64Array | undefined,
): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) {
          throw new ConvergenceError(`symEig: QL did not converge for eigenvalue ${l} of ${n}`);
        }
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (zt) {
            const o0 = i * n;
            const o1 = o0 + n;
            for (let k = 0; k < n; k++) {
              const z1 = zt[o1 + k]!;
              const z0 = zt[o0 + k]!;
              zt[o1 + k] = s * z0 + c * z1;
              zt[o0 + k] = c * z0 - s * z1;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > EPS * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x]! - d[y]!);
  const sorted = Float64Array.from(order, (i) => d[i]!);
  if (zt) {
    const copy = zt.slice();
    for (let j = 0; j < n; j++) zt.set(copy.subarray(order[j]! * n, order[j]! * n + n), j * n);
  }
  d.set(sorted);
}

/**
 * Eigen-decomposition of the symmetric matrix `a` [n, n] (only its lower triangle is read; `a` is
 * not modified). Householder tridiagonalisation (4/3 n³ flops) + implicit QL; with
 * `vectors: false` the QL phase is O(n²). Throws ConvergenceError if QL stalls.
 */
export function symEig(a: Float64Array, n: number, opts: { vectors?: boolean } = {}): SymEig {
  checkSquare(a, n, 'symEig');
  const w = a.slice();
  if (n === 1)
    return { values: Float64Array.of(w[0]!), vectors: opts.vectors ? Float64Array.of(1) : undefined };
  const { d, e, hs } = tridiagonalize(w, n);
  const zt = opts.vectors ? accumulateQt(w, n, hs) : undefined;
  tridiagonalQl(d, e, n, zt);
  return { values: d, vectors: zt };
}

export interface PivotedCholesky {
  /** [n, n] row-major, lower triangular in pivoted order; columns ≥ rank are zero. */
  l: Float64Array;
  perm: Int32Array; // [n]; pivoted row i is original row perm[i]: Pᵀ A P = L Lᵀ
  rank: number;
}

/**
 * Pivoted (diagonal-pivoting) Cholesky of a symmetric positive semi-definite `a` [n, n], as LAPACK
 * dpstrf: stops once the largest remaining pivot is ≤ tol (default n·ε·max diag), which is how a
 * singular covariance gets an exact low-rank factor instead of a failure.
 */
export function pivotedCholesky(a: Float64Array, n: number, tol?: number): PivotedCholesky {
  checkSquare(a, n, 'pivotedCholesky');
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const diag = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    diag[i] = a[i * n + i]!;
    maxDiag = Math.max(maxDiag, diag[i]!);
  }
  const stop = tol ?? n * EPS * maxDiag;
  const l = new Float64Array(n * n);
  let rank = 0;
  for (let j = 0; j < n; j++) {
    let piv = j;
    for (let i = j + 1; i < n; i++) if (diag[i]! > diag[piv]!) piv = i;
    if (!(diag[piv]! > stop)) break;
    if (piv !== j) {
      [perm[j], perm[piv]] = [perm[piv]!, perm[j]!];
      [diag[j], diag[piv]] = [diag[piv]!, diag[j]!];
      const rj = l.slice(j * n, j * n + j);
      l.copyWithin(j * n, piv * n, piv * n + j);
      l.set(rj, piv * n);
    }
    const ljj = Math.sqrt(diag[j]!);
    const rj = j * n;
    l[rj + j] = ljj;
    const pj = perm[j]! * n;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[pj + perm[i]!]!;
      for (let k = 0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
      const v = s / ljj;
      l[ri + j] = v;
      diag[i]! -= v * v;
    }
    rank = j + 1;
  }
  return { l, perm, rank };
}

/**
 * out[i, j] = Σ_k x[i, k] · y[j, k] over k in [from(i, j), kLen) for i in [0, m), j in [0, nOut)
 * (j ≤ i only when `lower`) — the "dot of rows" product A Bᵀ with 4×4 register blocking. `start`
 * (optional) gives, per row of x, the first k that can be non-zero (for triangular factors).
 */
export function dotRows(
  x: Float64Array, // [m, kLen]
  m: number,
  y: Float64Array, // [nOut, kLen]
  nOut: number,
  kLen: number,
  opts: { lower?: boolean; start?: Int32Array } = {},
): Float64Array {
  const out = new Float64Array(m * nOut);
  const lower = opts.lower ?? false;
  const start = opts.start;
  for (let i0 = 0; i0 < m; i0 += 4) {
    const iN = Math.min(4, m - i0);
    const jEnd = lower ? Math.min(nOut, i0 + 4) : nOut;
    const k0 = start ? start[i0]! : 0;
    for (let j0 = 0; j0 < jEnd; j0 += 4) {
      const jN = Math.min(4, jEnd - j0);
      if (iN === 4 && jN === 4) {
        const a0 = i0 * kLen;
        const a1 = a0 + kLen;
        const a2 = a1 + kLen;
        const a3 = a2 + kLen;
        const b0 = j0 * kLen;
        const b1 = b0 + kLen;
        const b2 = b1 + kLen;
        const b3 = b2 + kLen;
        let c00 = 0;
        let c01 = 0;
        let c02 = 0;
        let c03 = 0;
        let c10 = 0;
        let c11 = 0;
        let c12 = 0;
        let c13 = 0;
        let c20 = 0;
        let c21 = 0;
        let c22 = 0;
        let c23 = 0;
        let c30 = 0;
        let c31 = 0;
        let c32 = 0;
        let c33 = 0;
        for (let k = k0; k < kLen; k++) {
          const x0 = x[a0 + k]!;
          const x1 = x[a1 + k]!;
          const x2 = x[a2 + k]!;
          const x3 = x[a3 + k]!;
          const y0 = y[b0 + k]!;
          const y1 = y[b1 + k]!;
          const y2 = y[b2 + k]!;
          const y3 = y[b3 + k]!;
          c00 += x0 * y0;
          c01 += x0 * y1;
          c02 += x0 * y2;
          c03 += x0 * y3;
          c10 += x1 * y0;
          c11 += x1 * y1;
          c12 += x1 * y2;
          c13 += x1 * y3;
          c20 += x2 * y0;
          c21 += x2 * y1;
          c22 += x2 * y2;
          c23 += x2 * y3;
          c30 += x3 * y0;
          c31 += x3 * y1;
          c32 += x3 * y2;
          c33 += x3 * y3;
        }
        const o0 = i0 * nOut + j0;
        const o1 = o0 + nOut;
        const o2 = o1 + nOut;
        const o3 = o2 + nOut;
        out[o0] = c00;
        out[o0 + 1] = c01;
        out[o0 + 2] = c02;
        out[o0 + 3] = c03;
        out[o1] = c10;
        out[o1 + 1] = c11;
        out[o1 + 2] = c12;
        out[o1 + 3] = c13;
        out[o2] = c20;
        out[o2 + 1] = c21;
        out[o2 + 2] = c22;
        out[o2 + 3] = c23;
        out[o3] = c30;
        out[o3 + 1] = c31;
        out[o3 + 2] = c32;
        out[o3 + 3] = c33;
      } else {
        for (let i = i0; i < i0 + iN; i++) {
          for (let j = j0; j < j0 + jN; j++) {
            let s = 0;
            for (let k = start ? start[i]! : 0; k < kLen; k++) s += x[i * kLen + k]! * y[j * kLen + k]!;
            out[i * nOut + j] = s;
          }
        }
      }
    }
  }
  return out;
}
