// Step time with a 10k-row vs a 10M-row Engram table (same model, same batch): the host table + sparse
// optimiser make a training step independent of the table size. Judged by ratio = t(10M) / t(10k) ≤ 1.2.
// Prints one JSON line. Usage: npx tsx bench/table-scaling.ts [--steps N]
import { initBackend } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { type CodeGridSet, Trainer } from '../src/trainer.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const steps = Number(arg('steps', '8'));
const backend = await initBackend({ log: () => {} });
const H = 7;
const W = 7;
const vocab = 512;
const numClasses = 10;
const rng = new Rng(1);
const data: CodeGridSet = {
  codes: new Int32Array(1024 * H * W).map(() => rng.int(vocab)),
  labels: new Int32Array(1024).map(() => rng.int(numClasses)),
  numClasses,
  vocab,
  height: H,
  width: W,
};
const stencils = [
  ['L', 'U'],
  ['L', 'U', 'UL'],
];
const heads = 4; // 1 layer × 2 stencils × 4 heads = 8 head blocks

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(totalRows: number): { rows: number; stepMs: number; initMs: number } {
  const t0 = performance.now();
  const t = new Trainer(
    {
      vocab,
      height: H,
      width: W,
      numClasses,
      nLayer: 2,
      nHead: 4,
      dim: 128,
      mlpHidden: 344,
      engram: {
        layers: [1],
        vocab,
        tableRows: Math.round(totalRows / (stencils.length * heads)),
        dHead: 8,
        heads,
        stencils,
      },
    },
    data,
    null,
    { steps: steps + 2, batchSize: 32 },
  );
  const initMs = performance.now() - t0;
  t.trainStep();
  t.trainStep();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    t.trainStep();
    times.push(performance.now() - s);
  }
  const rows = t.table!.rows;
  t.dispose();
  return { rows, stepMs: +median(times).toFixed(2), initMs: Math.round(initMs) };
}

const small = measure(10_000);
const large = measure(10_000_000);
console.log(
  JSON.stringify({
    bench: 'ar-backbone/table-scaling',
    backend: backend.name,
    small,
    large,
    ratio: +(large.stepMs / small.stepMs).toFixed(3),
    target: 1.2,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
