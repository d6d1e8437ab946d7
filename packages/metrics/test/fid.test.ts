import { describe, expect, it } from 'vitest';
import { frechetDistance } from '../src/fid.js';
import { symEig } from '../src/linalg.js';
import { type MatmulEngine, tsEngine } from '../src/matmul.js';
import { goldenCases, goldenGaussian } from './golden.js';

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / Math.abs(want);
}

describe('FID vs numpy/scipy goldens (scripts/make_golden.py)', () => {
  for (const c of goldenCases) {
    const big = c.dim >= 1024;
    it(`${c.name} (d=${c.dim})`, { timeout: 60_000 }, async () => {
      const [a, b] = await Promise.all(c.sets.map(goldenGaussian));
      const res = await frechetDistance(a!, b!, { engine: big ? 'onnx' : 'ts' });
      expect(res.epsRetry).toBe(false);
      if (c.name.includes('identical')) {
        // FID of a set with itself is 0 up to rounding of the trace terms
        expect(Math.abs(res.fid)).toBeLessThan(1e-9 * c.trace_sum);
      } else {
        expect(relErr(res.fid, c.fid_sqrtm)).toBeLessThanOrEqual(1e-6);
        expect(relErr(res.fid, c.fid_eigh)).toBeLessThanOrEqual(1e-6);
      }
      if (!big) {
        // the Σ^½-by-eigendecomposition route is an independent second implementation
        const viaEig = await frechetDistance(a!, b!, { engine: 'ts', sqrtFactor: 'eig' });
        // (eigenvalues of a singular Σ1 carry ~1e-16 noise whose square roots add ~1e-8 each)
        const tol = 1e-7 * Math.abs(res.fid) + 1e-9 * c.trace_sum;
        expect(Math.abs(viaEig.fid - res.fid)).toBeLessThanOrEqual(tol);
      }
      if (c.eigvalsh_cov1) {
        const { values } = symEig(a!.cov, c.dim);
        const scale = Math.max(...c.eigvalsh_cov1.map(Math.abs));
        for (const [i, w] of c.eigvalsh_cov1.entries())
          expect(Math.abs(values[i]! - w)).toBeLessThan(1e-12 * scale);
      }
    });
  }

  it('rejects NaN statistics with a clear message', async () => {
    const g = { dim: 2, mean: Float64Array.of(0, Number.NaN), cov: Float64Array.of(1, 0, 0, 1) };
    const ok = { dim: 2, mean: Float64Array.of(0, 0), cov: Float64Array.of(1, 0, 0, 1) };
    await expect(frechetDistance(g, ok, { engine: 'ts' })).rejects.toThrow(/first\.mean\[1\] is NaN/);
  });

  it('retries with ε·I on both covariances when the first attempt is not finite (pytorch-fid)', async () => {
    const a = { dim: 3, mean: Float64Array.of(0, 1, 0), cov: Float64Array.of(2, 1, 0, 1, 2, 0, 0, 0, 0) };
    const b = { dim: 3, mean: Float64Array.of(1, 1, 0), cov: Float64Array.of(1, 0, 0, 0, 3, 1, 0, 1, 1) };
    let calls = 0;
    // an engine whose first product is poisoned stands in for a failed sqrt
    const flaky: MatmulEngine = {
      name: 'ts',
      dotRows: async (...args) => {
        const out = await tsEngine.dotRows(...args);
        if (calls++ === 0) out.fill(Number.NaN);
        return out;
      },
    };
    const eps = 1e-3;
    const r = await frechetDistance(a, b, { engine: flaky, eps });
    expect(r.epsRetry).toBe(true);
    const shift = (c: Float64Array) => c.map((v, i) => (i % 4 === 0 ? v + eps : v));
    const want = await frechetDistance(
      { ...a, cov: shift(a.cov) },
      { ...b, cov: shift(b.cov) },
      { engine: 'ts' },
    );
    // trace terms of the unshifted covariances, square-root term of the shifted ones
    expect(r.traceSqrt).toBeCloseTo(want.traceSqrt, 12);
    expect(r.fid).toBeCloseTo(want.fid - 2 * 3 * eps, 12);
    expect((await frechetDistance(a, b, { engine: 'ts' })).epsRetry).toBe(false);
  });

  it('closed form: 1-D Gaussians give (μ1-μ2)² + (σ1-σ2)²', async () => {
    const r = await frechetDistance(
      { dim: 1, mean: Float64Array.of(1), cov: Float64Array.of(4) },
      { dim: 1, mean: Float64Array.of(-2), cov: Float64Array.of(9) },
      { engine: 'ts' },
    );
    expect(r.fid).toBeCloseTo(9 + 1, 12);
  });

  it('zero covariance: FID = ‖Δμ‖² + Tr Σ2', async () => {
    const z = { dim: 3, mean: Float64Array.of(0, 0, 0), cov: new Float64Array(9) };
    const b = { dim: 3, mean: Float64Array.of(1, 2, 2), cov: Float64Array.of(2, 1, 0, 1, 2, 0, 0, 0, 1) };
    expect((await frechetDistance(z, b, { engine: 'ts' })).fid).toBeCloseTo(9 + 5, 12);
    expect((await frechetDistance(b, z, { engine: 'ts' })).fid).toBeCloseTo(9 + 5, 12);
  });
});
