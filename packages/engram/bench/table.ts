// Bench: host-table step cost vs table size, and host path vs the dense tfjs gather gradient (1M rows).
// Prints ONE JSON line. Run: cd packages/engram && pnpm bench   (or npx tsx bench/table.ts)
//
// "host step" = gatherRows (ids → e) + SparseAdam.step (dedupe, accumulate, lazy Adam) for one batch of
// B·T positions × Le·S·K row ids, ids from the real hash of random grids. The tfjs reference does what a
// tf.Variable table would: gather forward, gradient (dense [rows, dHead] via UnsortedSegmentSum), dense Adam.
// The machine is shared, so the two sides of every ratio are measured in alternation (same contention), and
// besides wall time we report process CPU time (user + system), which other processes do not inflate.
import { loadavg } from 'node:os';
import { initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { buildHashSpec, type HashSpec, rowsForGrids } from '../src/hash.js';
import { SparseAdam } from '../src/sparse-adam.js';
import { EngramTable } from '../src/table.js';

const H = 16;
const W = 16;
const VOCAB = 512;
const D_HEAD = 16;
const HEADS = 4;
const LAYERS = [0, 1];
const STEPS = 15;

interface Sample {
  wall: number;
  cpu: number;
}

function timed(f: () => void): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function summary(xs: Sample[]) {
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  const w = xs.map((x) => x.wall);
  const c = xs.map((x) => x.cpu);
  return {
    wallMedian: +med(w).toFixed(2),
    wallMin: +Math.min(...w).toFixed(2),
    cpuMedian: +med(c).toFixed(2),
  };
}

function ratio(a: Sample[], b: Sample[]) {
  const sa = summary(a);
  const sb = summary(b);
  return {
    wallMedian: +(sa.wallMedian / sb.wallMedian).toFixed(2),
    wallMin: +(sa.wallMin / sb.wallMin).toFixed(2),
    cpuMedian: +(sa.cpuMedian / sb.cpuMedian).toFixed(2),
  };
}

function makeSpec(totalRows: number): HashSpec {
  const perHead = Math.round(totalRows / (LAYERS.length * 2 * HEADS));
  return buildHashSpec({
    layers: LAYERS,
    heads: HEADS,
    tableRows: perHead,
    dHead: D_HEAD,
    vocab: VOCAB,
    seed: 1,
  });
}

function makeBatches(spec: HashSpec, n: number, B: number) {
  const rng = new Rng('bench-grids');
  return Array.from({ length: n }, () => {
    const codes = Int32Array.from({ length: B * H * W }, () => rng.int(VOCAB));
    const ids = rowsForGrids(spec, codes, [B, H, W]);
    return { codes, ids, grads: rng.fillNormal(new Float32Array(ids.length * D_HEAD), 0, 1e-3) };
  });
}

/** A host table with its optimiser; `step(i)` runs gather + SparseAdam on batch i. */
function hostSide(totalRows: number, B: number) {
  const spec = makeSpec(totalRows);
  const table = new EngramTable(spec, { init: { kind: 'normal', std: 1, seed: 2 } });
  const opt = new SparseAdam(table, { lr: 1e-3, lrMultiplier: 5 });
  const batches = makeBatches(spec, STEPS + 1, B);
  const e = new Float32Array(batches[0]!.ids.length * D_HEAD);
  let distinct = 0;
  return {
    spec,
    rows: table.rows,
    batches,
    distinct: () => distinct,
    step: (i: number) =>
      timed(() => {
        const b = batches[i]!;
        table.gatherRows(b.ids, e);
        distinct = opt.step(b.ids, b.grads);
      }),
  };
}

/** The dense tfjs path on a [rows, dHead] tf.Variable, fed the same batches. */
function denseSide(spec: HashSpec, batches: { ids: Int32Array; grads: Float32Array }[]) {
  const table = tf.variable(tf.randomNormal([spec.totalRows, D_HEAD]));
  const adam = tf.train.adam(5e-3);
  return {
    step: (i: number) =>
      timed(() => {
        const b = batches[i]!;
        tf.tidy(() => {
          const idx = tf.tensor1d(b.ids, 'int32');
          const g = tf.tensor2d(b.grads, [b.ids.length, D_HEAD]);
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, idx), g)), [table]);
          adam.applyGradients([{ name: table.name, tensor: grads[table.name]! }]);
        });
        table.dataSync(); // wait for the backend to finish
      }),
    dispose: () => {
      table.dispose();
      adam.dispose();
    },
  };
}

const B = 32;
const hashTimes: Sample[] = [];
const small = hostSide(10_000, B);
const large = hostSide(10_000_000, B);
const smallT: Sample[] = [];
const largeT: Sample[] = [];
for (let i = 0; i <= STEPS; i++) {
  const s = small.step(i);
  const l = large.step(i);
  hashTimes.push(timed(() => rowsForGrids(small.spec, small.batches[i]!.codes, [B, H, W])));
  if (i > 0) {
    smallT.push(s);
    largeT.push(l);
  }
}

const backend = (await initBackend({ log: () => {} })).name;
const dense = [];
for (const b of [8, 32]) {
  const host = hostSide(1_000_000, b);
  const ref = denseSide(host.spec, host.batches);
  const hostT: Sample[] = [];
  const refT: Sample[] = [];
  for (let i = 0; i < 7; i++) {
    const h = host.step(i);
    const r = ref.step(i);
    if (i > 0) {
      hostT.push(h);
      refT.push(r);
    }
  }
  ref.dispose();
  dense.push({
    batch: b,
    idsPerStep: b * H * W * LAYERS.length * 2 * HEADS,
    hostStepMs: summary(hostT),
    tfjsDenseStepMs: summary(refT),
    speedup: ratio(refT, hostT),
  });
}

console.log(
  JSON.stringify({
    bench: 'engram-table',
    loadavg1m: +loadavg()[0]!.toFixed(1), // > 2 means the 2 cores were shared while measuring
    tfjsBackend: backend,
    batch: B,
    idsPerStep: B * H * W * LAYERS.length * 2 * HEADS,
    dHead: D_HEAD,
    rows: { small: small.rows, large: large.rows },
    distinctRowsPerStep: { small: small.distinct(), large: large.distinct() },
    hashMs: summary(hashTimes),
    hostStepMs: { rows10k: summary(smallT), rows10M: summary(largeT) },
    ratio10Mvs10k: ratio(largeT, smallT),
    vsDenseTfjs1M: dense,
  }),
);
