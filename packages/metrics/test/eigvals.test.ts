import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import { symEigvalsBlocked } from '../src/eigvals.js';
import { symEig } from '../src/linalg.js';
import { onnxEngine, tsEngine } from '../src/matmul.js';

function randomSymmetric(n: number, seed: number, sparse = false): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = sparse && (i + j) % 3 === 0 ? 0 : rng.normal();
      a[i * n + j] = a[j * n + i] = v;
    }
  }
  return a;
}

describe('symEigvalsBlocked', () => {
  it('equals the unblocked eigensolver for any panel width and both engines', async () => {
    const onnx = await onnxEngine();
    for (const [n, sparse] of [
      [1, false],
      [2, false],
      [5, false],
      [33, false],
      [100, true], // zero rows inside the panel exercise the scale = 0 path
      [130, false],
    ] as const) {
      const a = randomSymmetric(n, n, sparse);
      const want = symEig(a, n).values;
      for (const engine of [tsEngine, onnx]) {
        for (const nb of [1, 4, 32]) {
          const got = await symEigvalsBlocked(a, n, engine, nb);
          for (let i = 0; i < n; i++)
            expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-12 * Math.max(n, 10));
        }
      }
    }
  });

  it('reproduces the spectrum of a matrix built from known eigenvalues', async () => {
    // A = Σ λ_j v_j v_jᵀ with v the columns of a Householder reflection (orthogonal)
    const n = 70;
    const rng = new Rng(2);
    const w = Float64Array.from({ length: n }, () => rng.normal());
    const ww = w.reduce((s, x) => s + x * x, 0);
    const lambda = Float64Array.from({ length: n }, (_, j) => (j % 7 === 0 ? 0 : j - 20));
    const a = new Float64Array(n * n);
    const v = (i: number, j: number) => (i === j ? 1 : 0) - (2 * w[i]! * w[j]!) / ww;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += lambda[j]! * v(i, j) * v(k, j);
        a[i * n + k] = s;
      }
    const got = await symEigvalsBlocked(a, n, tsEngine, 8);
    const want = Float64Array.from(lambda).sort();
    for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-11);
  });
});
