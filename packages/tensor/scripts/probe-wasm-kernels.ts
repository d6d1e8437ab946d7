// Lists the kernels the wasm backend lacks for the forward and backward passes this repo trains with.
// Run: npx tsx scripts/probe-wasm-kernels.ts            (tfjs as shipped: prints what is missing)
//      npx tsx scripts/probe-wasm-kernels.ts --with-ours (after registerWasmKernels(): should print none)
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerAllGradients } from '../src/gradients.js';
import { registerWasmKernels } from '../src/kernels.js';

await registerAllGradients();
if (process.argv.includes('--with-ours')) registerWasmKernels();
await tf.setBackend('wasm');

const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 1);
type Case = [string, () => tf.Tensor | tf.Tensor[] | tf.NamedTensorMap];
const g1 = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(f(a)))(x);
const g2 = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
  tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(f(p, q)))([a, b]);

const cases: Case[] = [
  ['matMul', () => g2((a, b) => tf.matMul(a, b), r([3, 4]), r([4, 5]))],
  ['matMul transposeA', () => g2((a, b) => tf.matMul(a, b, true), r([4, 3]), r([4, 5]))],
  ['matMul transposeB', () => g2((a, b) => tf.matMul(a, b, false, true), r([3, 4]), r([5, 4]))],
  ['matMul batched', () => g2((a, b) => tf.matMul(a, b), r([2, 3, 4]), r([2, 4, 5]))],
  ['gather axis0', () => g1((x) => tf.gather(x, tf.tensor1d([0, 2, 2], 'int32')), r([4, 3]))],
  ['gather axis1', () => g1((x) => tf.gather(x, tf.tensor1d([0, 2], 'int32'), 1), r([4, 3]))],
  [
    'gather 2d idx',
    () =>
      g1(
        (x) =>
          tf.gather(
            x,
            tf.tensor2d(
              [
                [0, 1],
                [3, 3],
              ],
              [2, 2],
              'int32',
            ),
          ),
        r([4, 3]),
      ),
  ],
  [
    'conv2d',
    () =>
      g2(
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
        r([1, 5, 5, 2]),
        r([3, 3, 2, 4]),
      ),
  ],
  [
    'conv2d stride2 valid',
    () =>
      g2(
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'),
        r([2, 6, 6, 2]),
        r([3, 3, 2, 3]),
      ),
  ],
  [
    'conv2dTranspose',
    () =>
      g2(
        (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [1, 8, 8, 3], 2, 'same'),
        r([1, 4, 4, 2]),
        r([3, 3, 3, 2]),
      ),
  ],
  [
    'depthwiseConv2d',
    () =>
      g2(
        (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
        r([1, 5, 5, 3]),
        r([3, 3, 3, 1]),
      ),
  ],
  [
    'depthwiseConv2d mult2',
    () =>
      g2(
        (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'),
        r([1, 5, 5, 3]),
        r([3, 3, 3, 2]),
      ),
  ],
  [
    'conv1d',
    () =>
      g2(
        (x, f) =>
          tf.conv1d(
            tf.pad(x, [
              [0, 0],
              [3, 0],
              [0, 0],
            ]) as tf.Tensor3D,
            f as tf.Tensor3D,
            1,
            'valid',
          ),
        r([1, 8, 2]),
        r([4, 2, 2]),
      ),
  ],
  [
    'separableConv2d',
    () =>
      g1(
        (x) =>
          tf.separableConv2d(
            x as tf.Tensor4D,
            r([3, 3, 2, 1]) as tf.Tensor4D,
            r([1, 1, 2, 3]) as tf.Tensor4D,
            1,
            'same',
          ),
        r([1, 5, 5, 2]),
      ),
  ],
  [
    'resizeNearestNeighbor',
    () => g1((x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8, 8]), r([1, 4, 4, 2])),
  ],
  ['resizeBilinear', () => g1((x) => tf.image.resizeBilinear(x as tf.Tensor4D, [8, 8]), r([1, 4, 4, 2]))],
  ['avgPool', () => g1((x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), r([1, 4, 4, 2]))],
  ['maxPool', () => g1((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), r([1, 4, 4, 2]))],
  ['softmax', () => g1((x) => tf.mul(tf.softmax(x), r([3, 5])), r([3, 5]))],
  ['logSoftmax', () => g1((x) => tf.mul(tf.logSoftmax(x), r([3, 5])), r([3, 5]))],
  ['logSumExp', () => g1((x) => tf.logSumExp(x, -1), r([3, 5]))],
  [
    'mean/sum/square/sqrt/rsqrt',
    () =>
      g1(
        (x) => tf.add(tf.sqrt(tf.mean(tf.square(x), -1, true)), tf.rsqrt(tf.add(tf.sum(tf.square(x)), 1))),
        r([3, 5]),
      ),
  ],
  [
    'sigmoid/tanh/exp/log',
    () => g1((x) => tf.add(tf.add(tf.sigmoid(x), tf.tanh(x)), tf.log(tf.add(tf.exp(x), 1))), r([3, 5])),
  ],
  [
    'relu/leakyRelu/elu/selu/softplus',
    () =>
      g1(
        (x) => tf.addN([tf.relu(x), tf.leakyRelu(x, 0.1), tf.elu(x), tf.selu(x), tf.softplus(x)]),
        r([3, 5]),
      ),
  ],
  [
    'erf/abs/pow/sign',
    () =>
      g1((x) => tf.addN([tf.erf(x), tf.abs(x), tf.pow(tf.abs(x), 1.5), tf.mul(tf.sign(x), x)]), r([3, 5])),
  ],
  [
    'maximum/minimum/clip',
    () =>
      g1((x) => tf.addN([tf.maximum(x, 0.2), tf.minimum(x, 0.1), tf.clipByValue(x, -0.5, 0.5)]), r([3, 5])),
  ],
  ['max/min reduce', () => g1((x) => tf.add(tf.max(x, -1), tf.sum(tf.min(x, 0))), r([3, 5]))],
  ['where/select', () => g2((a, b) => tf.where(tf.greater(r([3, 5]), 0), a, b), r([3, 5]), r([3, 5]))],
  [
    'concat/slice/split/stack/unstack',
    () =>
      g1(
        (x) => {
          const [a, b] = tf.split(x, 2, 1);
          const s = tf.stack([a!, b!]);
          return tf.concat([tf.slice(x, [0, 1], [2, 2]), tf.slice(tf.unstack(s)[0]!, [0, 0], [2, 2])], 1);
        },
        r([3, 4]),
      ),
  ],
  ['tile', () => g1((x) => tf.tile(x, [2, 3]), r([3, 4]))],
  ['transpose', () => g1((x) => tf.mul(tf.transpose(x, [1, 0, 2]), r([4, 3, 2])), r([3, 4, 2]))],
  ['cumsum', () => g1((x) => tf.mul(tf.cumsum(x, 1), r([3, 4])), r([3, 4]))],
  ['reverse', () => g1((x) => tf.mul(tf.reverse(x, 1), r([3, 4])), r([3, 4]))],
  [
    'pad',
    () =>
      g1(
        (x) =>
          tf.mul(
            tf.pad(x, [
              [1, 0],
              [0, 2],
            ]),
            r([4, 6]),
          ),
        r([3, 4]),
      ),
  ],
  ['broadcastTo', () => g1((x) => tf.mul(tf.broadcastTo(x, [3, 4]), r([3, 4])), r([1, 4]))],
  ['squaredDifference', () => g2((a, b) => tf.squaredDifference(a, b), r([3, 4]), r([3, 4]))],
  [
    'divide/sub/neg',
    () => g2((a, b) => tf.neg(tf.sub(tf.div(a, tf.add(tf.abs(b), 1)), b)), r([3, 4]), r([3, 4])),
  ],
  ['oneHot', () => tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4)],
  ['topk', () => tf.topk(r([3, 10]), 3).values],
  ['argMax/argMin', () => [tf.argMax(r([3, 10]), -1), tf.argMin(r([3, 10]), -1)]],
  ['einsum', () => tf.einsum('bij,bjk->bik', r([2, 3, 4]), r([2, 4, 5]))],
  [
    'moments/batchNorm',
    () =>
      g1(
        (x) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return tf.batchNorm(x as tf.Tensor4D, mean, variance, r([3]), r([3]), 1e-5);
        },
        r([2, 4, 4, 3]),
      ),
  ],
  [
    'GroupNorm',
    () =>
      g1(
        (x) => {
          const g = tf.reshape(x, [2, 4, 4, 2, 3]);
          const { mean, variance } = tf.moments(g, [1, 2, 4], true);
          return tf.mul(
            tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, 1e-5))), [2, 4, 4, 6]),
            r([2, 4, 4, 6]),
          );
        },
        r([2, 4, 4, 6]),
      ),
  ],
  [
    'RMSNorm',
    () =>
      g2(
        (x, w) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w),
        r([6, 8]),
        r([8]),
      ),
  ],
  [
    'SwiGLU',
    () =>
      g1(
        (x) => {
          const [a, b] = tf.split(tf.matMul(x, r([8, 16])), 2, -1);
          return tf.matMul(tf.mul(tf.mul(a!, tf.sigmoid(a!)), b!), r([8, 8]));
        },
        r([6, 8]),
      ),
  ],
  [
    'RoPE',
    () =>
      g1(
        (x) => {
          const [a, b] = tf.split(x, 2, -1);
          const rot = tf.concat([tf.neg(b!), a!], -1);
          return tf.mul(tf.add(tf.mul(x, tf.cos(r([6, 8]))), tf.mul(rot, tf.sin(r([6, 8])))), r([6, 8]));
        },
        r([2, 6, 8]),
      ),
  ],
  [
    'causal attention',
    () =>
      g1(
        (x) => {
          const q = tf.transpose(
            tf.reshape(tf.matMul(tf.reshape(x, [12, 8]), r([8, 8])), [2, 6, 2, 4]),
            [0, 2, 1, 3],
          );
          const s = tf.div(tf.matMul(q, q, false, true), 2);
          const mask = tf.linalg.bandPart(tf.ones([6, 6]), -1, 0);
          const p = tf.softmax(tf.where(tf.cast(mask, 'bool'), s, tf.fill(s.shape, -1e9)));
          return tf.mul(tf.matMul(p, q), r([2, 2, 6, 4]));
        },
        r([2, 6, 8]),
      ),
  ],
  [
    'cross entropy (logSoftmax+gather-free oneHot)',
    () =>
      g1((x) => tf.neg(tf.mul(tf.oneHot(tf.tensor1d([1, 0, 4], 'int32'), 5), tf.logSoftmax(x))), r([3, 5])),
  ],
  ['unsortedSegmentSum fwd', () => tf.unsortedSegmentSum(r([4, 3]), tf.tensor1d([0, 2, 0, 1], 'int32'), 3)],
  [
    'gatherND/scatterND',
    () => [
      tf.gatherND(
        r([4, 3]),
        tf.tensor2d(
          [
            [0, 1],
            [2, 2],
          ],
          [2, 2],
          'int32',
        ),
      ),
      tf.scatterND(tf.tensor2d([[0], [2]], [2, 1], 'int32'), r([2, 3]), [4, 3]),
    ],
  ],
  [
    'cos/sin/range/linspace/fill',
    () => [tf.cos(tf.range(0, 5)), tf.sin(tf.linspace(0, 1, 5)), tf.fill([2, 2], 3)],
  ],
  ['isNaN/isFinite/isInf', () => [tf.isNaN(r([3])), tf.isFinite(r([3])), tf.isInf(r([3]))]],
  [
    'floor/round/mod/floorDiv',
    () => [tf.floor(r([3])), tf.round(r([3])), tf.mod(r([3]), 2), tf.floorDiv(r([3]), tf.scalar(2))],
  ],
  [
    'logical/compare',
    () => [
      tf.logicalAnd(tf.greater(r([3]), 0), tf.lessEqual(r([3]), 0)),
      tf.logicalNot(tf.equal(r([3]), 0)),
      tf.notEqual(r([3]), 0),
    ],
  ],
  ['log1p/expm1', () => g1((x) => tf.add(tf.log1p(tf.abs(x)), tf.expm1(x)), r([3, 4]))],
  [
    'prod/all/any',
    () => [tf.prod(r([3, 4]), 1), tf.all(tf.greater(r([3]), 0)), tf.any(tf.greater(r([3]), 0))],
  ],
  ['norm', () => g1((x) => tf.norm(x), r([3, 4]))],
  [
    'mirrorPad',
    () =>
      g1(
        (x) =>
          tf.mul(
            tf.mirrorPad(
              x,
              [
                [1, 1],
                [1, 1],
              ],
              'reflect',
            ),
            r([5, 6]),
          ),
        r([3, 4]),
      ),
  ],
  ['dropout', () => g1((x) => tf.dropout(x, 0.5, undefined, 3), r([3, 4]))],
  ['multinomial', () => tf.multinomial(r([2, 5]) as tf.Tensor2D, 3, 7)],
];

const missing = new Map<string, string[]>();
const otherErrors: string[] = [];
for (const [name, f] of cases) {
  // each case re-runs until it passes or fails on a non-kernel error, so one case can reveal several kernels
  const seen = new Set<string>();
  for (;;) {
    try {
      tf.tidy(() => {
        const out = f();
        const list =
          out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : out ? Object.values(out) : [];
        for (const t of list) t.dataSync();
      });
      break;
    } catch (e) {
      const msg = (e as Error).message;
      const m = /Kernel '(\w+)' not registered for backend 'wasm'/.exec(msg);
      if (!m || seen.has(m[1]!)) {
        if (!m) otherErrors.push(`${name}: ${msg.split('\n')[0]}`);
        break;
      }
      seen.add(m[1]!);
      missing.set(m[1]!, [...(missing.get(m[1]!) ?? []), name]);
      // temporarily fall back so the next missing kernel in this case can be found
      const cpuKernel = tf.getKernel(m[1]!, 'cpu');
      if (!cpuKernel) break;
      tf.registerKernel({ ...cpuKernel, backendName: 'wasm', kernelFunc: viaCpu(cpuKernel.kernelFunc) });
    }
  }
}
for (const k of missing.keys()) tf.unregisterKernel(k, 'wasm');

/** Runs a cpu kernel on wasm tensors by copying data across (probe only: finds the next missing kernel). */
function viaCpu(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, attrs }) => {
    const cpu = tf.findBackend('cpu')!;
    const wasm = tf.findBackend('wasm')!;
    const toCpu = (info: tf.TensorInfo): tf.TensorInfo => ({
      ...info,
      dataId: cpu.write(wasm.readSync(info.dataId) as Float32Array, info.shape, info.dtype),
    });
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as tf.TensorInfo[]).map(toCpu)
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toCpu(t as tf.TensorInfo)]));
    const out = kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, attrs, backend: cpu }) as
      | tf.TensorInfo
      | tf.TensorInfo[];
    const outs = Array.isArray(out) ? out : [out];
    const res = outs.map((o) => ({
      ...o,
      dataId: wasm.write(cpu.readSync(o.dataId) as Float32Array, o.shape, o.dtype),
    }));
    return Array.isArray(out) ? res : res[0]!;
  };
}

console.log(JSON.stringify({ missing: Object.fromEntries(missing), otherErrors }, null, 1));
