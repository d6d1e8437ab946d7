// The wasm kernels this package registers vs the cpu backend's kernels, on training-sized inputs:
// UnsortedSegmentSum (embedding gradient), Conv2DBackpropFilter (conv filter gradient), and
// Conv2DBackpropInput (conv input gradient), which this package replaces: its stock wasm kernel is timed too.
// One JSON line: ms per call (CPU time of this single-threaded process) and the cpu/wasm speed-up.
// Run: cd packages/tensor && npx tsx bench/kernels.ts
import { loadavg } from 'node:os';
import { Rng, stockWasmKernel, tf } from '../src/index.js';

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
let stockMs = 0;
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
  const bpInput = (kernel: (a: { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap }) => tf.Tensor) =>
    msPerCall(
      () => {
        tf.tidy(() => {
          kernel({
            inputs: { dy: cdy, filter: filt },
            attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: xShape },
          }).dataSync();
        });
      },
      minMs,
      warmup,
    );
  const filt = tf.tensor4d(rng.fillNormal(new Float32Array(3 * 3 * 32 * 32)), fShape);
  res[backend]!.conv2dBackpropInputMs = bpInput(
    ({ inputs, attrs }) => tf.engine().runKernel('Conv2DBackpropInput', inputs, attrs) as tf.Tensor,
  );
  if (backend === 'wasm') {
    const stock = stockWasmKernel('Conv2DBackpropInput')!.kernelFunc;
    stockMs = bpInput(({ inputs, attrs }) => {
      const info = stock({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    });
  }
  tf.dispose([x, seg, cx, cdy, filt]);
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
      conv2dBackpropInput: { dx: xShape, filter: fShape },
    },
    msPerCallCpuTime: { ...res, wasmStock: { conv2dBackpropInputMs: stockMs } },
    conv2dBackpropFilterGflopsPerCpuSecond: {
      wasm: Number((convGflop / (res.wasm!.conv2dBackpropFilterMs! / 1000)).toPrecision(3)),
      cpu: Number((convGflop / (res.cpu!.conv2dBackpropFilterMs! / 1000)).toPrecision(3)),
    },
    cpuOverWasm: speedup,
    wasmStockOverWasm: {
      conv2dBackpropInput: Number((stockMs / res.wasm!.conv2dBackpropInputMs!).toFixed(1)),
    },
    loadavg1m: Number(loadavg()[0]!.toFixed(2)),
  }),
);
