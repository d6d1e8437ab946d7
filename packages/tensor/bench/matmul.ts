// Matmul throughput per backend for the three shapes models use: plain [M,K]x[K,N], transposed
// (transposeB, as in attention scores / tied heads / every matmul gradient), batched [B,M,K]x[B,K,N]
// (per-head attention) and [B,M,K]x[K,N] (activations times a weight matrix).
// Prints one JSON line: GFLOP/s per backend and shape, and the wasm/cpu ratios. Both backends run on one
// thread, so besides wall-clock GFLOP/s we report GFLOP per CPU-second of this process, which is what the
// code achieves when the machine is shared (the ratios are taken from it).
// Shapes: M = K = N = 256; batched is 8 × [64, 256] · [256, 64]; batched3dBy2d is [8, 64, 256] · [256, 64].
// Run: cd packages/tensor && npx tsx bench/matmul.ts
import { Rng, tf } from '../src/index.js';

interface Case {
  name: 'plain' | 'transposedB' | 'batched' | 'batched3dBy2d';
  a: number[];
  b: number[];
  transposeB: boolean;
  flops: number;
}

const M = 256;
const K = 256;
const N = 256;
const B = 8;
const cases: Case[] = [
  { name: 'plain', a: [M, K], b: [K, N], transposeB: false, flops: 2 * M * K * N },
  { name: 'transposedB', a: [M, K], b: [N, K], transposeB: true, flops: 2 * M * K * N },
  { name: 'batched', a: [B, M / 4, K], b: [B, K, N / 4], transposeB: false, flops: (2 * B * M * K * N) / 16 },
  {
    name: 'batched3dBy2d',
    a: [B, M / 4, K],
    b: [K, N / 4],
    transposeB: false,
    flops: (2 * B * M * K * N) / 16,
  },
];

const rng = new Rng('bench-matmul');
const data = cases.map((c) => ({
  a: rng.fillNormal(new Float32Array(c.a.reduce((x, y) => x * y, 1))),
  b: rng.fillNormal(new Float32Array(c.b.reduce((x, y) => x * y, 1))),
}));

/** Repeats the product until at least `minMs` has elapsed (after one warm-up run); GFLOP/s by wall and CPU. */
function measure(
  c: Case,
  d: { a: Float32Array; b: Float32Array },
  minMs = 500,
): { wall: number; cpu: number } {
  const a = tf.tensor(d.a, c.a);
  const b = tf.tensor(d.b, c.b);
  // block body: tf.tidy walks whatever the callback returns, and walking a big typed array is slow
  const once = () => {
    tf.tidy(() => {
      tf.matMul(a, b, false, c.transposeB).dataSync();
    });
  };
  once();
  let reps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    once();
    reps++;
  }
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(c0);
  const cpu = (used.user + used.system) / 1e6;
  tf.dispose([a, b]);
  const gflop = (c.flops * reps) / 1e9;
  return { wall: Number((gflop / wall).toFixed(3)), cpu: Number((gflop / cpu).toFixed(3)) };
}

const wallGflops: Record<string, Record<string, number>> = {};
const cpuGflops: Record<string, Record<string, number>> = {};
for (const backend of ['wasm', 'cpu']) {
  await tf.setBackend(backend);
  wallGflops[backend] = {};
  cpuGflops[backend] = {};
  cases.forEach((c, i) => {
    const r = measure(c, data[i]!);
    wallGflops[backend]![c.name] = r.wall;
    cpuGflops[backend]![c.name] = r.cpu;
  });
}
const ratio = Object.fromEntries(
  cases.map((c) => [c.name, Number((cpuGflops.wasm![c.name]! / cpuGflops.cpu![c.name]!).toFixed(2))]),
);
console.log(
  JSON.stringify({
    bench: 'matmul',
    shapes: Object.fromEntries(cases.map((c) => [c.name, { a: c.a, b: c.b, transposeB: c.transposeB }])),
    gflopsPerCpuSecond: cpuGflops,
    gflopsWall: wallGflops,
    wasmOverCpu: ratio,
    loadavg1m: Number((await import('node:os')).loadavg()[0]!.toFixed(2)),
  }),
);
