// Fréchet distance between two Gaussians fitted to features:
//   FID = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁^½ Σ₂ Σ₁^½)^½.
// The last term is Σᵢ √λᵢ over the eigenvalues of the symmetric PSD matrix Bᵀ Σ₂ B for ANY factor
// B with B Bᵀ = Σ₁ (Bᵀ Σ₂ B and Σ₁^½ Σ₂ Σ₁^½ are both similar to Σ₁ Σ₂ up to zero eigenvalues).
// Two factors are offered: the pivoted Cholesky factor (default; exact for singular Σ₁ via its
// rank-revealing stop, ~20× cheaper than an eigen-decomposition at d = 2048) and B = V Λ^½ from the
// eigen-decomposition of Σ₁ (the textbook Σ₁^½ route, kept as an independent second implementation).
// Tiny negative eigenvalues from rounding are clamped to 0 before the square root.
import { symEigvalsBlocked } from './eigvals.js';
import { ConvergenceError, pivotedCholesky, symEig } from './linalg.js';
import { type EngineName, getEngine, type MatmulEngine } from './matmul.js';
import { FeatureStats } from './stats.js';

const BLOCKED_MIN = 128;

export interface Gaussian {
  dim: number;
  mean: Float64Array; // [D]
  cov: Float64Array; // [D, D] symmetric PSD, row-major
}

export interface FidOptions {
  /** Factor of Σ₁ used for the trace term: 'cholesky' (default) or 'eig'. */
  sqrtFactor?: 'cholesky' | 'eig';
  /** Matrix-product engine: 'onnx' (default) or 'ts'. */
  engine?: EngineName | MatmulEngine;
  /**
   * Offset added to both diagonals when the first attempt fails (eigensolver did not converge or
   * produced a non-finite trace), as pytorch-fid does when sqrtm of a singular product is not
   * finite. Default 1e-6.
   */
  eps?: number;
}

export interface FidResult {
  fid: number;
  meanTerm: number; // ‖μ₁ − μ₂‖²
  traceSqrt: number; // Tr (Σ₁^½ Σ₂ Σ₁^½)^½
  /** True if the ε·I retry was needed. */
  epsRetry: boolean;
}

export function gaussianOf(s: FeatureStats | Gaussian): Gaussian {
  return s instanceof FeatureStats ? { dim: s.dim, mean: s.mean, cov: s.covariance() } : s;
}

function checkGaussian(g: Gaussian, which: string): void {
  if (g.mean.length !== g.dim || g.cov.length !== g.dim * g.dim) {
    throw new Error(`${which}: mean [${g.mean.length}] / cov [${g.cov.length}] do not match dim ${g.dim}`);
  }
  for (const [name, a] of [
    ['mean', g.mean],
    ['cov', g.cov],
  ] as const) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!)) {
        throw new Error(`${which}.${name}[${i}] is ${a[i]}: NaN/Inf in the statistics (NaN features?)`);
      }
    }
  }
}

async function traceSqrtProduct(
  s1: Float64Array,
  s2: Float64Array,
  n: number,
  engine: MatmulEngine,
  factor: 'cholesky' | 'eig',
): Promise<number> {
  let bt: Float64Array; // [r, n]: rows are the columns of B (B Bᵀ = Σ₁, in the basis of s2b)
  let s2b: Float64Array; // Σ₂ in the same basis
  let r: number;
  let start: Int32Array | undefined;
  if (factor === 'cholesky') {
    const pc = pivotedCholesky(s1, n);
    r = pc.rank;
    if (r === 0) return 0;
    // Pᵀ Σ₁ P = L Lᵀ, so use Pᵀ Σ₂ P as the second matrix
    s2b = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const src = pc.perm[i]! * n;
      for (let j = 0; j < n; j++) s2b[i * n + j] = s2[src + pc.perm[j]!]!;
    }
    bt = new Float64Array(r * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < Math.min(i + 1, r); j++) bt[j * n + i] = pc.l[i * n + j]!;
    start = Int32Array.from({ length: r }, (_, j) => j);
  } else {
    const { values, vectors } = symEig(s1, n, { vectors: true });
    r = n;
    s2b = s2;
    bt = vectors!;
    for (let j = 0; j < n; j++) {
      const sc = Math.sqrt(Math.max(values[j]!, 0));
      for (let k = 0; k < n; k++) bt[j * n + k]! *= sc;
    }
  }
  const wt = await engine.dotRows(bt, r, s2b, n, n, { start }); // [r, n] = (Σ₂ B)ᵀ
  const m = await engine.dotRows(bt, r, wt, r, n, { lower: true, start }); // [r, r] = Bᵀ Σ₂ B
  // large problems: blocked tridiagonalisation with the rank-2k updates on the engine
  const values = r >= BLOCKED_MIN ? await symEigvalsBlocked(m, r, engine) : symEig(m, r).values;
  let t = 0;
  for (const v of values) t += Math.sqrt(Math.max(v, 0));
  return t;
}

/** Fréchet distance between two Gaussians (or feature statistics), all in float64. */
export async function frechetDistance(
  a: FeatureStats | Gaussian,
  b: FeatureStats | Gaussian,
  opts: FidOptions = {},
): Promise<FidResult> {
  const g1 = gaussianOf(a);
  const g2 = gaussianOf(b);
  checkGaussian(g1, 'first');
  checkGaussian(g2, 'second');
  if (g1.dim !== g2.dim) throw new Error(`frechetDistance: dims differ (${g1.dim} vs ${g2.dim})`);
  const n = g1.dim;
  const engine = await getEngine(opts.engine);
  const factor = opts.sqrtFactor ?? 'cholesky';
  let meanTerm = 0;
  let tr = 0;
  for (let i = 0; i < n; i++) {
    const d = g1.mean[i]! - g2.mean[i]!;
    meanTerm += d * d;
    tr += g1.cov[i * n + i]! + g2.cov[i * n + i]!;
  }
  let traceSqrt = Number.NaN;
  let epsRetry = false;
  try {
    traceSqrt = await traceSqrtProduct(g1.cov, g2.cov, n, engine, factor);
  } catch (e) {
    if (!(e instanceof ConvergenceError)) throw e;
  }
  if (!Number.isFinite(traceSqrt)) {
    epsRetry = true;
    const eps = opts.eps ?? 1e-6;
    const c1 = g1.cov.slice();
    const c2 = g2.cov.slice();
    for (let i = 0; i < n; i++) {
      c1[i * n + i]! += eps;
      c2[i * n + i]! += eps;
    }
    traceSqrt = await traceSqrtProduct(c1, c2, n, engine, factor);
  }
  return { fid: meanTerm + tr - 2 * traceSqrt, meanTerm, traceSqrt, epsRetry };
}
