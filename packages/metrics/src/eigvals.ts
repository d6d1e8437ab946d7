// Eigenvalues of a large symmetric matrix with a BLOCKED Householder tridiagonalisation (LAPACK
// dsytrd/dlatrd, in this package's bottom-up row convention): a panel of `nb` reflections is built
// against the matrix as it was before the panel, corrected on the fly by the panel's own rank-2
// terms; the deferred update A ← A − U Qᵀ − Q Uᵀ is then one rank-2nb product through the matrix
// engine (ONNX Runtime by default). Per reflection JS only streams the lower triangle READ-ONLY for
// the matrix–vector product, half the memory traffic and flops of the unblocked `symEig`.
import { tridiagonalQl } from './linalg.js';
import type { MatmulEngine } from './matmul.js';

/** Eigenvalues (ascending) of the symmetric `a` [n, n] (lower triangle read; `a` not modified). */
export async function symEigvalsBlocked(
  aIn: Float64Array,
  n: number,
  engine: MatmulEngine,
  nb = 32,
): Promise<Float64Array> {
  if (aIn.length !== n * n)
    throw new Error(`symEigvalsBlocked: matrix has ${aIn.length} entries, expected ${n * n}`);
  const a = aIn.slice();
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const us = new Float64Array(nb * n); // [nb, n]: the panel's Householder vectors u_p
  const qs = new Float64Array(nb * n); // [nb, n]: and their q_p (A_eff = A − Σ u_p q_pᵀ + q_p u_pᵀ)
  const u = new Float64Array(n);
  const p = new Float64Array(n);
  const cu = new Float64Array(nb); // Qᵀu
  const cq = new Float64Array(nb); // Uᵀu
  let i = n - 1;
  while (i >= 1) {
    let np = 0; // reflections in this panel
    for (; np < nb && i >= 1; np++, i--) {
      const ri = i * n;
      // row i of A_eff, columns 0..i
      for (let t = 0; t < np; t++) {
        const ut = us[t * n + i]!;
        const qt = qs[t * n + i]!;
        const o = t * n;
        for (let k = 0; k <= i; k++) a[ri + k]! -= ut * qs[o + k]! + qt * us[o + k]!;
      }
      d[i] = a[ri + i]!;
      const l = i - 1;
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!);
      const uo = np * n;
      if (l === 0 || scale === 0) {
        e[i] = a[ri + l]!;
        us.fill(0, uo, uo + n);
        qs.fill(0, uo, uo + n);
        continue;
      }
      let h = 0;
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
      // p = A u over the block 0..l, with A as it was before the panel (read-only pass)
      symvLower(a, n, l + 1, u, p);
      // … minus the panel's pending terms: p −= Σ_t u_t (q_t·u) + q_t (u_t·u)
      for (let t = 0; t < np; t++) {
        const o = t * n;
        let su = 0;
        let sq = 0;
        for (let k = 0; k <= l; k++) {
          su += qs[o + k]! * u[k]!;
          sq += us[o + k]! * u[k]!;
        }
        cu[t] = su;
        cq[t] = sq;
      }
      for (let t = 0; t < np; t++) {
        const o = t * n;
        const su = cu[t]!;
        const sq = cq[t]!;
        if (su === 0 && sq === 0) continue;
        for (let k = 0; k <= l; k++) p[k]! -= us[o + k]! * su + qs[o + k]! * sq;
      }
      let up = 0;
      for (let k = 0; k <= l; k++) {
        p[k]! /= h;
        up += u[k]! * p[k]!;
      }
      const kk = up / (2 * h);
      us.fill(0, uo, uo + n);
      qs.fill(0, uo, uo + n);
      for (let k = 0; k <= l; k++) {
        us[uo + k] = u[k]!;
        qs[uo + k] = p[k]! - kk * u[k]!;
      }
    }
    // deferred update of the remaining block [0, m)²: A −= U Qᵀ + Q Uᵀ as one product
    const m = i + 1;
    if (np > 0 && m > 0) {
      const w = 2 * np;
      const x = new Float64Array(m * w); // row r: (u_t[r] …, q_t[r] …)
      const y = new Float64Array(m * w); // row r: (q_t[r] …, u_t[r] …)
      for (let r = 0; r < m; r++) {
        for (let t = 0; t < np; t++) {
          x[r * w + t] = us[t * n + r]!;
          x[r * w + np + t] = qs[t * n + r]!;
          y[r * w + t] = qs[t * n + r]!;
          y[r * w + np + t] = us[t * n + r]!;
        }
      }
      const upd = await engine.dotRows(x, m, y, m, w, { lower: true });
      for (let r = 0; r < m; r++) {
        const o = r * n;
        const ou = r * m;
        for (let k = 0; k <= r; k++) a[o + k]! -= upd[ou + k]!;
      }
    }
  }
  d[0] = a[0]!;
  tridiagonalQl(d, e, n, undefined);
  return d;
}

/**
 * p[0..m) = A[0..m)² u from the lower triangle of row-major `a` (row stride n), four rows per pass
 * so each u[k] / p[k] load and p[k] store serves four matrix entries.
 */
function symvLower(a: Float64Array, n: number, m: number, u: Float64Array, p: Float64Array): void {
  p.fill(0, 0, m);
  let r = 0;
  for (; r + 3 < m; r += 4) {
    const o0 = r * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const u0 = u[r]!;
    const u1 = u[r + 1]!;
    const u2 = u[r + 2]!;
    const u3 = u[r + 3]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < r; k++) {
      const v0 = a[o0 + k]!;
      const v1 = a[o1 + k]!;
      const v2 = a[o2 + k]!;
      const v3 = a[o3 + k]!;
      const uk = u[k]!;
      s0 += v0 * uk;
      s1 += v1 * uk;
      s2 += v2 * uk;
      s3 += v3 * uk;
      p[k]! += v0 * u0 + v1 * u1 + v2 * u2 + v3 * u3;
    }
    // the 4×4 diagonal block
    const a10 = a[o1 + r]!;
    const a20 = a[o2 + r]!;
    const a21 = a[o2 + r + 1]!;
    const a30 = a[o3 + r]!;
    const a31 = a[o3 + r + 1]!;
    const a32 = a[o3 + r + 2]!;
    p[r]! += s0 + a[o0 + r]! * u0 + a10 * u1 + a20 * u2 + a30 * u3;
    p[r + 1]! += s1 + a10 * u0 + a[o1 + r + 1]! * u1 + a21 * u2 + a31 * u3;
    p[r + 2]! += s2 + a20 * u0 + a21 * u1 + a[o2 + r + 2]! * u2 + a32 * u3;
    p[r + 3]! += s3 + a30 * u0 + a31 * u1 + a32 * u2 + a[o3 + r + 3]! * u3;
  }
  for (; r < m; r++) {
    const o = r * n;
    const ur = u[r]!;
    let s = 0;
    for (let k = 0; k < r; k++) {
      const v = a[o + k]!;
      s += v * u[k]!;
      p[k]! += v * ur;
    }
    p[r]! += s + a[o + r]! * ur;
  }
}
