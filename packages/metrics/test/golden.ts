// Loads the numpy/scipy goldens written by scripts/make_golden.py.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gaussian } from '../src/fid.js';
import { computeStats, FeatureStats } from '../src/stats.js';

interface SetSpec {
  kind: 'factor' | 'features';
  rows: number;
  cols: number;
  mean?: number;
  factor?: number;
  diag?: number;
  features?: number;
}

export interface GoldenCase {
  name: string;
  dim: number;
  sets: [SetSpec, SetSpec];
  fid_sqrtm: number;
  fid_eigh: number;
  trace_sum: number;
  eigvalsh_cov1?: number[];
}

const dir = join(import.meta.dirname, 'golden');
const blob = readFileSync(join(dir, 'fid.bin'));
const values = new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
export const goldenCases: GoldenCase[] = JSON.parse(readFileSync(join(dir, 'fid.json'), 'utf8')).cases;

export function goldenSlice(offset: number, length: number): Float32Array {
  return values.subarray(offset, offset + length);
}

/** The Gaussian of one golden set, rebuilt in float64 exactly as the script did. */
export async function goldenGaussian(s: SetSpec): Promise<Gaussian> {
  if (s.kind === 'features') {
    const x = goldenSlice(s.features!, s.rows * s.cols);
    const st = await computeStats(x, s.cols, { engine: 'ts' });
    return { dim: s.cols, mean: st.mean, cov: st.covariance() };
  }
  const d = s.rows;
  const m = s.cols;
  const a = goldenSlice(s.factor!, d * m);
  const dg = goldenSlice(s.diag!, d);
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let t = 0;
      for (let k = 0; k < m; k++) t += a[i * m + k]! * a[j * m + k]!;
      cov[i * d + j] = cov[j * d + i] = t / m + (i === j ? dg[i]! : 0);
    }
  }
  return { dim: d, mean: Float64Array.from(goldenSlice(s.mean!, d)), cov };
}

export function goldenFeatures(s: SetSpec): Float32Array {
  return goldenSlice(s.features!, s.rows * s.cols);
}

export { FeatureStats };
