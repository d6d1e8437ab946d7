// Host-table path vs the dense tfjs-gather path at 1M table rows, for the memory part of a training step
// with the same upstream gradient dL/de:
//   host:  rowsForGrids → EngramTable.gatherRows → input tensor e → SparseAdam on the touched rows;
//   dense: table as a tf.Variable, e = tf.gather(table, ids) inside the gradient (tfjs's gather gradient is a
//          dense UnsortedSegmentSum over every row) → dense AdamW over the whole table.
// Judged by speedup = t(dense) / t(host) ≥ 10. Prints one JSON line. Usage: npx tsx bench/dense-gather.ts
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildHashSpec, EngramTable, rowsForGrids, SparseAdam } from '@engram-ar/engram';
import { AdamW, initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';

const backend = await initBackend({ log: () => {} });
const B = 64;
const H = 7;
const W = 7;
const vocab = 512;
const stencils = [
  ['L', 'U'],
  ['L', 'U', 'UL'],
];
const heads = 4;
const dHead = 32;
const totalRows = 1_000_000;
const spec = buildHashSpec({
  layers: [1],
  vocab,
  tableRows: Math.round(totalRows / (stencils.length * heads)),
  dHead,
  heads,
  stencils,
});
const table = new EngramTable(spec);
const sparse = new SparseAdam(table, { lr: 1e-3 });
const rng = new Rng(3);
const E = stencils.length * heads * dHead;
const upstream = rng.fillNormal(new Float32Array(B * H * W * E)); // stands in for dL/de from the model
const batches = Array.from({ length: 4 }, () => new Int32Array(B * H * W).map(() => rng.int(vocab)));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const upE = tf.tensor2d(upstream, [B * H * W, E]);
const parts = {
  hash: [] as number[],
  gather: [] as number[],
  tensors: [] as number[],
  sparse: [] as number[],
};
function hostStep(codes: Int32Array): void {
  let t = performance.now();
  const ids = rowsForGrids(spec, codes, [B, H, W]);
  parts.hash.push(performance.now() - t);
  t = performance.now();
  const rows = table.gatherRows(ids);
  parts.gather.push(performance.now() - t);
  t = performance.now();
  // e enters tfjs as an input tensor; the model hands back dL/de (here: upE), read back to the host.
  const e = tf.tensor2d(rows, [B * H * W, E]);
  const grad = upE.dataSync() as Float32Array;
  e.dispose();
  parts.tensors.push(performance.now() - t);
  t = performance.now();
  sparse.step(ids, grad);
  parts.sparse.push(performance.now() - t);
}

const denseTable = tf.variable(tf.tensor2d(table.data, [table.rows, dHead]), true, 'bench_dense_table');
const adam = new AdamW([denseTable], { lr: 1e-3, weightDecay: 0 });
const up = tf.tensor2d(upstream, [B * H * W * stencils.length * heads, dHead]);
function denseStep(codes: Int32Array): void {
  const ids = tf.tensor1d(rowsForGrids(spec, codes, [B, H, W]), 'int32');
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(tf.gather(denseTable, ids), up)),
    [denseTable],
  );
  adam.applyGradients(grads);
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  ids.dispose();
  denseTable.dataSync();
}

// The dense path reads back a 128 MB table every step; collect that garbage before each timed step so
// neither path is charged for the other's major GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const warmup = 3;
const reps = 8;
for (let i = 0; i < warmup; i++) hostStep(batches[i % batches.length]!);
for (const v of Object.values(parts)) v.length = 0;
const host: number[] = [];
const dense: number[] = [];
for (let i = 0; i < reps + 1; i++) {
  const codes = batches[i % batches.length]!;
  gc();
  let t = performance.now();
  hostStep(codes);
  if (i > 0) host.push(performance.now() - t);
  gc();
  t = performance.now();
  denseStep(codes);
  if (i > 0) dense.push(performance.now() - t);
}
const hostMs = median(host);
const denseMs = median(dense);
console.log(
  JSON.stringify({
    bench: 'ar-backbone/dense-gather',
    backend: backend.name,
    rows: table.rows,
    dHead,
    batch: B,
    positions: B * H * W,
    hostMs: +hostMs.toFixed(2),
    denseMs: +denseMs.toFixed(2),
    hostPartsMs: Object.fromEntries(
      Object.entries(parts).map(([k, v]) => [k, +median(v.slice(1)).toFixed(2)]),
    ),
    speedup: +(denseMs / hostMs).toFixed(1),
    target: 10,
  }),
);
