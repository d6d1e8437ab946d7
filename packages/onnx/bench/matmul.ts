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

// Two threads are measured with ORT's default spinning thread pool and without spinning, which
// holds up better when other processes compete for the cores.
const CONFIGS = [
  { threads: 1, spin: true },
  { threads: 2, spin: true },
  { threads: 2, spin: false },
];
const results: { k: number; n: number; threads: number; spin: boolean; gflops: number }[] = [];
for (const [k, n] of SHAPES) {
  for (const { threads, spin } of CONFIGS) {
    const gflops = await matmulGflops({ m: M, k, n, threads, allowSpinning: spin, seed: k * 1000 + n });
    results.push({ k, n, threads, spin, gflops: Number(gflops.toFixed(2)) });
  }
}
const best = (threads: number, spin: boolean) =>
  Math.max(...results.filter((r) => r.threads === threads && r.spin === spin).map((r) => r.gflops));
const [t1, t2spin, t2quiet] = [best(1, true), best(2, true), best(2, false)];
console.log(
  JSON.stringify({
    bench: 'ort-matmul',
    m: M,
    chain: 4,
    results,
    best_gflops_1t: t1,
    best_gflops_2t_spin: t2spin,
    best_gflops_2t_nospin: t2quiet,
    best_gflops: Math.max(t1, t2spin, t2quiet),
    speedup_2t_over_1t: Number((Math.max(t2spin, t2quiet) / t1).toFixed(3)),
    nospin_over_spin_2t: Number((t2quiet / t2spin).toFixed(3)),
  }),
);
