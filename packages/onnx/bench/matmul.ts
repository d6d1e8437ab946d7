// ORT CPU MatMul throughput for the shapes the models use ([256, K] x [K, N], K, N in 128..512),
// at 1 and 2 intra-op threads. The sampler bench divides its own FLOP/s by `best_gflops` (or calls
// matmulGflops itself in the same run). Square shapes chain 4 MatMuls per graph run.
import { matmulGflops } from '../src/index.js';

const M = 256;
const SHAPES: [number, number][] = [
  [128, 128],
  [256, 256],
  [512, 512],
  [128, 512],
  [512, 128],
];

const results: { k: number; n: number; threads: number; gflops: number }[] = [];
for (const [k, n] of SHAPES) {
  for (const threads of [1, 2]) {
    const gflops = await matmulGflops({ m: M, k, n, threads, seed: k * 1000 + n });
    results.push({ k, n, threads, gflops: Number(gflops.toFixed(2)) });
  }
}
const best = (t: number) => Math.max(...results.filter((r) => r.threads === t).map((r) => r.gflops));
console.log(
  JSON.stringify({
    bench: 'ort-matmul',
    m: M,
    chain: 4,
    results,
    best_gflops_1t: best(1),
    best_gflops_2t: best(2),
    best_gflops: Math.max(best(1), best(2)),
    speedup_2t_over_1t: Number((best(2) / best(1)).toFixed(3)),
  }),
);
