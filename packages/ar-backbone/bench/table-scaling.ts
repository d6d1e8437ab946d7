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

function build(totalRows: number): { trainer: Trainer; initMs: number } {
  const t0 = performance.now();
  const trainer = new Trainer(
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
    { steps: 2 * steps + 4, batchSize: 32 },
  );
  return { trainer, initMs: Math.round(performance.now() - t0) };
}

// Both trainers live side by side and take turns, so a shared machine's load hits both alike.
const runs = [build(10_000), build(10_000_000)];
for (const r of runs) r.trainer.trainStep(); // warm-up
const times: number[][] = [[], []];
for (let i = 0; i < steps; i++) {
  runs.forEach((r, k) => {
    const s = performance.now();
    r.trainer.trainStep();
    times[k]!.push(performance.now() - s);
  });
}
const [small, large] = runs.map((r, k) => ({
  rows: r.trainer.table!.rows,
  stepMs: +median(times[k]!).toFixed(2),
  initMs: r.initMs,
}));
for (const r of runs) r.trainer.dispose();
console.log(
  JSON.stringify({
    bench: 'ar-backbone/table-scaling',
    backend: backend.name,
    small,
    large,
    ratio: +(large!.stepMs / small!.stepMs).toFixed(3),
    target: 1.2,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
