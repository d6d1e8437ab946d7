// Precision/recall (k = 3) of 10k generated vs 10k real 128-d features (the feature-net's size),
// distances through the ONNX Runtime engine. `cd packages/metrics && npx tsx bench/prd.ts`
import { Rng } from '@engram-ar/tensor/rng';
import { precisionRecall } from '../src/index.js';

const n = Number(process.env.BENCH_N ?? 10_000);
const d = Number(process.env.BENCH_D ?? 128);
const rng = new Rng('bench/prd');
const real = rng.fillNormal(new Float32Array(n * d));
const fake = rng.fillNormal(new Float32Array(n * d), 0.1, 1.1);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const pr = await precisionRecall(real, fake, d);
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    bench: 'metrics/precision-recall',
    n,
    d,
    k: 3,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    ...pr,
  }),
);
