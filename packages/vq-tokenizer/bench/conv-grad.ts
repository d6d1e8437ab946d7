// Backward pass of one 3×3 conv layer on the wasm backend: this package's forward-conv gradients vs
// tfjs's stock kernels (Conv2DBackpropInput of tfjs-backend-wasm, Conv2DBackpropFilter registered by
// @engram-ar/tensor). Prints one JSON line.
//   cd packages/vq-tokenizer && npx tsx bench/conv-grad.ts
import { initBackend, tf } from '@engram-ar/tensor';
import { conv2d } from '../src/conv.js';

const [B, H, C] = [32, 28, 16];
const REPS = 10;
await initBackend({ backend: 'wasm', log: () => {} });
const x = tf.randomNormal([B, H, H, C]) as tf.Tensor4D;
const w = tf.randomNormal([3, 3, C, C]) as tf.Tensor4D;
const bias = tf.zeros([C]) as tf.Tensor1D;
const dy = tf.randomNormal([B, H, H, C]);

const ours = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
  tf.sum(tf.mul(conv2d(a as tf.Tensor4D, f as tf.Tensor4D, bias, 1), dy)),
);
const stock = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
  tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), bias), dy)),
);

function ms(f: () => tf.Tensor[]): number {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) {
    const r = f();
    for (const t of r) t.dataSync();
    tf.dispose(r);
  }
  return (performance.now() - t0) / REPS;
}

const [a, b] = [ours([x, w]), stock([x, w])];
let maxDiff = 0;
for (let i = 0; i < 2; i++) {
  const d = tf.max(tf.abs(tf.sub(a[i]!, b[i]!))).dataSync()[0]!;
  maxDiff = Math.max(maxDiff, d);
}
const oursMs = ms(() => ours([x, w]));
const stockMs = ms(() => stock([x, w]));
console.log(
  JSON.stringify({
    bench: 'vq-tokenizer/conv-grad',
    backend: 'wasm',
    shape: { batch: B, size: H, channels: C, kernel: 3 },
    forwardBackwardMs: {
      forwardConvGradients: Number(oursMs.toFixed(2)),
      stockKernels: Number(stockMs.toFixed(2)),
    },
    maxAbsDiff: maxDiff,
    ratio: { stockOverOurs: Number((stockMs / oursMs).toFixed(2)) },
  }),
);
