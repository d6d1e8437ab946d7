// FID on two sets of 10k × 2048 features: @engram-ar/metrics (statistics + FID) vs numpy/scipy
// (np.cov + scipy.linalg.sqrtm, pytorch-fid's formula) on the same float32 data in the same run.
//   cd packages/metrics && npx tsx bench/fid.ts          (BENCH_N / BENCH_D to change the size)
// Prints one JSON line; `ratio` = TS seconds / numpy seconds (target ≤ 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import { computeStats, frechetDistance, onnxEngine } from '../src/index.js';

const n = Number(process.env.BENCH_N ?? 10_000);
const d = Number(process.env.BENCH_D ?? 2048);
const rank = 16;

/** Correlated, shifted features: x = s ⊙ z + B u + offset, B [d, rank] shared by both sets. */
function makeFeatures(rng: Rng, b: Float32Array, shift: number): Float32Array {
  const x = new Float32Array(n * d);
  const u = new Float32Array(rank);
  for (let i = 0; i < n; i++) {
    rng.fillNormal(u);
    const o = i * d;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += b[j * rank + k]! * u[k]!;
      x[o + j] = (0.5 + (j % 7) / 7) * rng.normal() + s + shift * ((j % 3) - 1);
    }
  }
  return x;
}

const rng = new Rng('bench/fid');
const b = rng.fillNormal(new Float32Array(d * rank), 0, 0.3);
const x1 = makeFeatures(rng.split(1), b, 0);
const x2 = makeFeatures(rng.split(2), b, 0.05);
const engine = await onnxEngine();

const t0 = performance.now();
const s1 = await computeStats(x1, d, { engine });
const s2 = await computeStats(x2, d, { engine });
const t1 = performance.now();
const res = await frechetDistance(s1, s2, { engine });
const t2 = performance.now();
const ts = {
  fid: res.fid,
  statsSeconds: (t1 - t0) / 1000,
  fidSeconds: (t2 - t1) / 1000,
  seconds: (t2 - t0) / 1000,
};

let numpy: { fid: number; statsSeconds: number; fidSeconds: number; seconds: number } | null = null;
if (existsSync('/usr/bin/python3')) {
  const dir = mkdtempSync(join(tmpdir(), 'fid-bench-'));
  const path = join(dir, 'features.f32');
  const all = new Float32Array(2 * n * d);
  all.set(x1);
  all.set(x2, n * d);
  writeFileSync(path, new Uint8Array(all.buffer));
  const r = spawnSync(
    '/usr/bin/python3',
    [join(import.meta.dirname, 'fid_numpy.py'), path, String(n), String(d)],
    {
      encoding: 'utf8',
    },
  );
  rmSync(dir, { recursive: true, force: true });
  if (r.status === 0) numpy = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  else process.stderr.write(`numpy side failed: ${r.stderr}\n`);
}

const round = (v: number, k = 3) => Number(v.toFixed(k));
console.log(
  JSON.stringify({
    bench: 'metrics/fid',
    n,
    d,
    engine: engine.name,
    tsSeconds: round(ts.seconds),
    tsStatsSeconds: round(ts.statsSeconds),
    tsFidSeconds: round(ts.fidSeconds),
    numpySeconds: numpy ? round(numpy.seconds) : null,
    numpyStatsSeconds: numpy ? round(numpy.statsSeconds) : null,
    numpyFidSeconds: numpy ? round(numpy.fidSeconds) : null,
    fid: ts.fid,
    numpyFid: numpy?.fid ?? null,
    relDiff: numpy ? Math.abs(ts.fid - numpy.fid) / Math.abs(numpy.fid) : null,
    ratio: numpy ? round(ts.seconds / numpy.seconds) : null,
  }),
);
