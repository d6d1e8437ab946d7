// The wasm kernels this package registers vs the cpu backend's kernels, on training-sized inputs:
// UnsortedSegmentSum (embedding gradient) and Conv2DBackpropFilter (conv filter gradient).
// One JSON line: ms per call (CPU time of this single-threaded process) and the cpu/wasm speed-up.
// Run: cd packages/tensor && npx tsx bench/kernels.ts
import { loadavg } from 'node:os';
import { Rng, tf } from '../src/index.js';

const rng = new Rng('bench-kernels');

/** CPU milliseconds per call, repeating for at least `minMs` (after one warm-up call when `warmup`). */
function msPerCall(f: () => void, minMs: number, warmup: boolean): number {
  if (warmup) f();
  let reps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  do {
    f();
    reps++;
  } while (performance.now() - t0 < minMs);
  const u = process.cpuUsage(c0);
  return Number(((u.user + u.system) / 1000 / reps).toPrecision(4));
}

// gather gradient of a [vocab, d] embedding looked up by a batch of B·T tokens
const vocab = 512;
const d = 128;
const tokens = 512;
const ids = Int32Array.from({ length: tokens }, () => rng.int(vocab));
const rows = rng.fillNormal(new Float32Array(tokens * d));

// filter gradient of a 3×3, 32→32 conv on a batch of 4 28×28 maps (the cpu kernel takes seconds per call)
const xShape: [number, number, number, number] = [4, 28, 28, 32];
const fShape: [number, number, number, number] = [3, 3, 32, 32];
const xs = rng.fillNormal(new Float32Array(4 * 28 * 28 * 32));
const dys = rng.fillNormal(new Float32Array(4 * 28 * 28 * 32));

const res: Record<string, Record<string, number>> = {};
for (const backend of ['wasm', 'cpu']) {
  await tf.setBackend(backend);
  // the cpu kernels take seconds per call: one timed call, no warm-up
  const [minMs, warmup] = backend === 'wasm' ? [600, true] : [0, false];
  const x = tf.tensor2d(rows, [tokens, d]);
  const seg = tf.tensor1d(ids, 'int32');
  const cx = tf.tensor4d(xs, xShape);
  const cdy = tf.tensor4d(dys, [4, 28, 28, 32]);
  res[backend] = {
    // block bodies: tf.tidy walks whatever the callback returns, and walking a big typed array is slow
    unsortedSegmentSumMs: msPerCall(
      () => {
        tf.tidy(() => {
          tf.unsortedSegmentSum(x, seg, vocab).dataSync();
        });
      },
      minMs,
      warmup,
    ),
    conv2dBackpropFilterMs: msPerCall(
      () => {
        tf.tidy(() => {
          const k = tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: cx, dy: cdy },
              { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: fShape },
            ) as tf.Tensor;
          k.dataSync();
        });
      },
      minMs,
      warmup,
    ),
  };
  tf.dispose([x, seg, cx, cdy]);
}
const speedup = Object.fromEntries(
  Object.keys(res.wasm!).map((k) => [k.replace('Ms', ''), Number((res.cpu![k]! / res.wasm![k]!).toFixed(1))]),
);
const convGflop = (2 * 4 * 28 * 28 * 9 * 32 * 32) / 1e9;
console.log(
  JSON.stringify({
    bench: 'wasm-kernels',
    shapes: {
      unsortedSegmentSum: { x: [tokens, d], numSegments: vocab },
      conv2dBackpropFilter: { x: xShape, filter: fShape },
    },
    msPerCallCpuTime: res,
    conv2dBackpropFilterGflopsPerCpuSecond: {
      wasm: Number((convGflop / (res.wasm!.conv2dBackpropFilterMs! / 1000)).toPrecision(3)),
      cpu: Number((convGflop / (res.cpu!.conv2dBackpropFilterMs! / 1000)).toPrecision(3)),
    },
    cpuOverWasm: speedup,
    loadavg1m: Number(loadavg()[0]!.toFixed(2)),
  }),
);
