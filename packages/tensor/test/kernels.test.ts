// Every kernel registered for wasm is compared with the cpu backend's kernel on random inputs.
import { describe, expect, it } from 'vitest';
import { REGISTERED_WASM_KERNELS, REPLACED_WASM_KERNELS, Rng, stockWasmKernel, tf } from '../src/index.js';

const TOL = 1e-5;
const rng = new Rng('kernels-test');

function randn(n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n));
}

/** Runs `f` on the given backend and returns its output(s) as plain arrays. */
async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const data = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Runs `f` on wasm and `cpuF` (default: the same computation) on cpu and compares elementwise. */
async function expectSameOnBothBackends(
  f: () => tf.Tensor | tf.Tensor[],
  label: string,
  cpuF: () => tf.Tensor | tf.Tensor[] = f,
): Promise<void> {
  const cpu = await runOn('cpu', cpuF);
  const wasm = await runOn('wasm', f);
  expect(wasm.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(cpu[i]!.length, label).toBeGreaterThan(0);
    expect(maxAbsDiff(wasm[i]!, cpu[i]!), label).toBeLessThanOrEqual(TOL);
  }
}

function run(kernel: string, inputs: tf.NamedTensorMap | tf.Tensor[], attrs: object): tf.Tensor {
  return tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
}

describe('registered wasm kernels match cpu (max abs diff ≤ 1e-5)', () => {
  it('registers exactly the documented kernels', () => {
    expect(REGISTERED_WASM_KERNELS).toEqual([
      'UnsortedSegmentSum',
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'Einsum',
    ]);
    for (const k of REGISTERED_WASM_KERNELS) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    expect(REPLACED_WASM_KERNELS).toEqual(['BatchMatMul', 'Conv2DBackpropInput', 'OneHot']);
    for (const k of REPLACED_WASM_KERNELS) {
      expect(stockWasmKernel(k)?.kernelFunc, k).toBeTypeOf('function');
      expect(stockWasmKernel(k)!.kernelFunc, k).not.toBe(tf.getKernel(k, 'wasm')!.kernelFunc);
    }
  });

  it('BatchMatMul (fast path for single-batch b, stock otherwise): transposes, ranks, broadcasting', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[7, 5], [5, 6], false, false],
      [[7, 5], [6, 5], false, true],
      [[5, 7], [5, 6], true, false],
      [[5, 7], [6, 5], true, true],
      [[3, 7, 5], [5, 6], false, false],
      [[3, 7, 5], [1, 6, 5], false, true],
      [[2, 3, 5, 7], [5, 6], true, false],
      [[2, 3, 5, 7], [1, 1, 6, 5], true, true],
      [[7, 5], [1, 1, 6, 5], false, true],
      [[4, 7, 5], [4, 5, 6], false, false],
      [[4, 5, 7], [4, 6, 5], true, true],
      [[64, 40], [80, 40], false, true],
      [[40, 64], [40, 80], true, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      const ad = randn(as.reduce((x, y) => x * y, 1));
      const bd = randn(bs.reduce((x, y) => x * y, 1));
      await expectSameOnBothBackends(
        () => {
          const out = tf.matMul(tf.tensor(ad, as), tf.tensor(bd, bs), ta, tb);
          return [out, tf.tensor1d(out.shape)];
        },
        `matMul ${JSON.stringify([as, bs, ta, tb])}`,
      );
    }
    await tf.setBackend('wasm');
    expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 3]))).toThrow(/inner shapes/);
  });

  it('matMul gradients through the fast path (2-D and 3-D × 2-D)', async () => {
    const xd = randn(3 * 6 * 8);
    const wd = randn(8 * 5);
    const gd = randn(3 * 6 * 5);
    await expectSameOnBothBackends(
      () =>
        tf.grads((x: tf.Tensor, w: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(tf.reshape(x, [18, 8]), w), tf.tensor2d(gd, [18, 5]))),
        )([tf.tensor3d(xd, [3, 6, 8]), tf.tensor2d(wd, [8, 5])]),
      'matMul grads 2-D',
    );
    await expectSameOnBothBackends(
      () =>
        tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(x, tf.tensor2d(wd, [8, 5])), tf.tensor3d(gd, [3, 6, 5]))),
        )(tf.tensor3d(xd, [3, 6, 8])),
      'matMul grads 3-D x 2-D',
    );
  });

  it('UnsortedSegmentSum: float32/int32, 1-D and 2-D ids, out-of-range ids dropped', async () => {
    // the cpu kernel broadcasts multi-dim ids wrongly, so its reference always gets flattened ids
    const cases: { x: number[]; ids: number[]; n: number; dtype: 'float32' | 'int32' }[] = [
      { x: [7, 3], ids: [7], n: 5, dtype: 'float32' },
      { x: [50, 16], ids: [50], n: 40, dtype: 'float32' },
      { x: [4, 6, 5], ids: [4, 6], n: 9, dtype: 'float32' },
      { x: [30], ids: [30], n: 4, dtype: 'float32' },
      { x: [12, 4], ids: [12], n: 6, dtype: 'int32' },
    ];
    for (const c of cases) {
      const size = c.x.reduce((a, b) => a * b, 1);
      const xs =
        c.dtype === 'int32' ? Int32Array.from({ length: size }, () => rng.int(21) - 10) : randn(size);
      // include ids -1 and n (dropped by TF semantics) and repeated ids
      const ids = Int32Array.from({ length: c.ids.reduce((a, b) => a * b, 1) }, () => rng.int(c.n + 2) - 1);
      const flat = [ids.length, ...c.x.slice(c.ids.length)];
      await expectSameOnBothBackends(
        () =>
          run(
            'UnsortedSegmentSum',
            { x: tf.tensor(xs, c.x, c.dtype), segmentIds: tf.tensor(ids, c.ids, 'int32') },
            { numSegments: c.n },
          ),
        `UnsortedSegmentSum ${JSON.stringify(c)}`,
        () =>
          run(
            'UnsortedSegmentSum',
            { x: tf.tensor(xs, flat, c.dtype), segmentIds: tf.tensor1d(ids, 'int32') },
            { numSegments: c.n },
          ),
      );
    }
  });

  it('UnsortedSegmentSum via the gather gradient', async () => {
    const table = randn(20 * 8);
    const idx = Int32Array.from({ length: 33 }, () => rng.int(20));
    const w = randn(33 * 8);
    await expectSameOnBothBackends(
      () =>
        tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32')), tf.tensor2d(w, [33, 8]))),
        )(tf.tensor2d(table, [20, 8])),
      'gather grad',
    );
  });

  it('Conv2DBackpropFilter: strides, same/valid/explicit padding, rectangular kernels', async () => {
    const cases: {
      x: [number, number, number, number];
      f: [number, number, number, number];
      s: number | [number, number];
      pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
    }[] = [
      { x: [1, 5, 5, 2], f: [3, 3, 2, 4], s: 1, pad: 'same' },
      { x: [2, 8, 7, 3], f: [3, 2, 3, 5], s: 2, pad: 'valid' },
      { x: [2, 9, 9, 4], f: [4, 4, 4, 3], s: [2, 1], pad: 'same' },
      { x: [3, 6, 6, 8], f: [1, 1, 8, 6], s: 1, pad: 'valid' },
      {
        x: [1, 7, 5, 2],
        f: [3, 3, 2, 2],
        s: 1,
        pad: [
          [0, 0],
          [2, 0],
          [1, 1],
          [0, 0],
        ],
      },
    ];
    for (const c of cases) {
      const xs = randn(c.x.reduce((a, b) => a * b, 1));
      const fs = randn(c.f.reduce((a, b) => a * b, 1));
      await expectSameOnBothBackends(
        () => {
          const x = tf.tensor4d(xs, c.x);
          const y = tf.conv2d(x, tf.tensor4d(fs, c.f), c.s, c.pad);
          const dy = tf.tensor(randnFixed(y.size, 1), y.shape);
          return run(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
          );
        },
        `Conv2DBackpropFilter ${JSON.stringify(c)}`,
      );
    }
  });

  it('Conv2DBackpropFilter: output pixels spanning several im2col chunks (256 columns each)', async () => {
    const xShape: [number, number, number, number] = [3, 17, 13, 6]; // N = 3·17·13 = 663 → 256 + 256 + 151
    const fShape: [number, number, number, number] = [3, 3, 6, 4];
    // scaled so the 663-term sums are O(1): the 1e-5 bound is then a few float32 ulps, which is what a
    // float32 product (wasm sums each chunk in float32, cpu sums in float64) can promise
    const xs = rng.fillNormal(new Float32Array(xShape.reduce((a, b) => a * b, 1)), 0, 0.3);
    const dys = rng.fillNormal(new Float32Array(3 * 17 * 13 * 4), 0, 0.3);
    await expectSameOnBothBackends(
      () =>
        run(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xs, xShape), dy: tf.tensor4d(dys, [3, 17, 13, 4]) },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: fShape },
        ),
      'Conv2DBackpropFilter chunked',
    );
  });

  it('Conv2DBackpropInput (forward-conv formulation): strides, paddings incl. larger than the kernel', async () => {
    type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
    const cases: {
      x: [number, number, number, number];
      f: [number, number, number, number];
      s: number | [number, number];
      pad: Pad;
    }[] = [
      { x: [1, 5, 5, 2], f: [3, 3, 2, 4], s: 1, pad: 'same' },
      { x: [2, 8, 7, 3], f: [3, 2, 3, 5], s: 2, pad: 'valid' },
      { x: [2, 9, 9, 4], f: [4, 4, 4, 3], s: [2, 1], pad: 'same' },
      { x: [2, 10, 10, 3], f: [3, 3, 3, 2], s: 3, pad: 'same' },
      { x: [3, 6, 6, 8], f: [1, 1, 8, 6], s: 1, pad: 'valid' },
      {
        x: [1, 7, 5, 2],
        f: [3, 3, 2, 2],
        s: 1,
        pad: [
          [0, 0],
          [2, 0],
          [1, 1],
          [0, 0],
        ],
      },
      {
        x: [1, 6, 6, 2],
        f: [2, 2, 2, 3],
        s: 2,
        pad: [
          [0, 0],
          [3, 1],
          [0, 4],
          [0, 0],
        ],
      },
    ];
    for (const c of cases) {
      const xs = randn(c.x.reduce((a, b) => a * b, 1));
      const fs = randn(c.f.reduce((a, b) => a * b, 1));
      await expectSameOnBothBackends(
        () => {
          const filter = tf.tensor4d(fs, c.f);
          const y = tf.conv2d(tf.tensor4d(xs, c.x), filter, c.s, c.pad);
          const dy = tf.tensor(randnFixed(y.size, 4), y.shape);
          return run(
            'Conv2DBackpropInput',
            { dy, filter },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
          );
        },
        `Conv2DBackpropInput ${JSON.stringify(c)}`,
      );
    }
  });

  it('conv2dTranspose (runs Conv2DBackpropInput) and its gradients', async () => {
    const xs = randn(2 * 4 * 4 * 3);
    const fs = randn(3 * 3 * 5 * 3);
    await expectSameOnBothBackends(() => {
      const x = tf.tensor4d(xs, [2, 4, 4, 3]);
      const f = tf.tensor4d(fs, [3, 3, 5, 3]);
      const w = tf.tensor4d(randnFixed(2 * 8 * 8 * 5, 5), [2, 8, 8, 5]);
      const out = tf.conv2dTranspose(x, f, [2, 8, 8, 5], 2, 'same');
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 5], 2, 'same'), w)),
      )([x, f]);
      return [out, ...grads];
    }, 'conv2dTranspose value and grads');
  });

  it('conv2d gradients end to end (filter and input)', async () => {
    const xs = randn(2 * 6 * 6 * 3);
    const fs = randn(3 * 3 * 3 * 4);
    const w = randn(2 * 6 * 6 * 4);
    await expectSameOnBothBackends(
      () =>
        tf.grads((x: tf.Tensor, f: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), tf.tensor4d(w, [2, 6, 6, 4])),
          ),
        )([tf.tensor4d(xs, [2, 6, 6, 3]), tf.tensor4d(fs, [3, 3, 3, 4])]),
      'conv2d grads',
    );
  });

  const depthwiseCases: {
    x: [number, number, number, number];
    f: [number, number, number, number];
    s: number | [number, number];
    d: number | [number, number];
    pad: 'same' | 'valid';
  }[] = [
    { x: [1, 5, 5, 3], f: [3, 3, 3, 1], s: 1, d: 1, pad: 'same' },
    { x: [2, 7, 6, 2], f: [3, 2, 2, 3], s: 2, d: 1, pad: 'valid' },
    { x: [2, 9, 9, 4], f: [3, 3, 4, 2], s: 1, d: 2, pad: 'same' },
    { x: [1, 8, 8, 5], f: [4, 1, 5, 1], s: [2, 1], d: 1, pad: 'same' },
    { x: [3, 1, 12, 6], f: [1, 4, 6, 1], s: 1, d: [1, 2], pad: 'valid' },
  ];

  it('DepthwiseConv2dNativeBackpropFilter: strides, dilations, channel multipliers, padding', async () => {
    for (const c of depthwiseCases) {
      const xs = randn(c.x.reduce((a, b) => a * b, 1));
      const fs = randn(c.f.reduce((a, b) => a * b, 1));
      const wasmF = () => {
        const x = tf.tensor4d(xs, c.x);
        const y = tf.depthwiseConv2d(x, tf.tensor4d(fs, c.f), c.s, c.pad, 'NHWC', c.d);
        const dy = tf.tensor(randnFixed(y.size, 2), y.shape);
        return run(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides: c.s, dilations: c.d, pad: c.pad, filterShape: c.f },
        );
      };
      // cpu ignores dilations in its backprop kernels: its reference is the equivalent undilated conv with a
      // zero-inserted filter, whose filter gradient at the real taps is the dilated one.
      const [dh, dw] = pair(c.d);
      const { data: fd, shape: fdShape } = dilateFilter(fs, c.f, dh, dw);
      const viaCpu = () => {
        const x = tf.tensor4d(xs, c.x);
        const y = tf.depthwiseConv2d(x, tf.tensor4d(fd, fdShape), c.s, c.pad);
        const dy = tf.tensor(randnFixed(y.size, 2), y.shape);
        const full = run(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides: c.s, dilations: 1, pad: c.pad, filterShape: fdShape },
        );
        return tf.stridedSlice(full, [0, 0, 0, 0], fdShape, [dh, dw, 1, 1]);
      };
      await expectSameOnBothBackends(
        wasmF,
        `DepthwiseConv2dNativeBackpropFilter ${JSON.stringify(c)}`,
        viaCpu,
      );
    }
  });

  it('DepthwiseConv2dNativeBackpropInput: strides, dilations, channel multipliers, padding', async () => {
    for (const c of depthwiseCases) {
      const xs = randn(c.x.reduce((a, b) => a * b, 1));
      const fs = randn(c.f.reduce((a, b) => a * b, 1));
      const [dh, dw] = pair(c.d);
      const { data: fd, shape: fdShape } = dilateFilter(fs, c.f, dh, dw);
      const make =
        (data: Float32Array, shape: [number, number, number, number], d: number | [number, number]) => () => {
          const filter = tf.tensor4d(data, shape);
          const y = tf.depthwiseConv2d(tf.tensor4d(xs, c.x), filter, c.s, c.pad, 'NHWC', d);
          const dy = tf.tensor(randnFixed(y.size, 3), y.shape);
          return run(
            'DepthwiseConv2dNativeBackpropInput',
            { dy, filter },
            { strides: c.s, dilations: d, pad: c.pad, inputShape: c.x },
          );
        };
      // cpu reference: the equivalent undilated conv with a zero-inserted filter (cpu ignores dilations here)
      await expectSameOnBothBackends(
        make(fs, c.f, c.d),
        `DepthwiseConv2dNativeBackpropInput ${JSON.stringify(c)}`,
        make(fd, fdShape, 1),
      );
    }
  });

  it('depthwiseConv2d gradients end to end (causal 1-D conv as used by Engram)', async () => {
    // [B, 1, T, C] sequence, left-padded by k-1 so output t sees inputs ≤ t
    const xs = randn(2 * 10 * 4);
    const fs = randn(4 * 4);
    await expectSameOnBothBackends(
      () =>
        tf.grads((x: tf.Tensor, f: tf.Tensor) => {
          const padded = tf.pad(x, [
            [0, 0],
            [0, 0],
            [3, 0],
            [0, 0],
          ]) as tf.Tensor4D;
          return tf.sum(tf.square(tf.depthwiseConv2d(padded, f as tf.Tensor4D, 1, 'valid')));
        })([tf.tensor4d(xs, [2, 1, 10, 4]), tf.tensor4d(fs, [1, 4, 4, 1])]),
      'depthwise grads',
    );
  });

  it('OneHot: float32 and int32, several depths and on/off values, out-of-range ids, output dtype', async () => {
    const cases: { ids: number[]; depth: number; on: number; off: number; dtype: 'float32' | 'int32' }[] = [
      { ids: [7], depth: 2, on: 1, off: 0, dtype: 'float32' },
      { ids: [3, 4], depth: 5, on: 0.9, off: 0.025, dtype: 'float32' }, // label smoothing
      { ids: [2, 3, 5], depth: 16, on: -2.5, off: 0.75, dtype: 'float32' },
      { ids: [40], depth: 300, on: 1e-3, off: -7, dtype: 'float32' },
      { ids: [6], depth: 3, on: 0, off: 1, dtype: 'float32' },
      { ids: [7], depth: 2, on: 1, off: 0, dtype: 'int32' },
      { ids: [3, 4], depth: 5, on: 7, off: -3, dtype: 'int32' },
      { ids: [40], depth: 300, on: 0, off: 2, dtype: 'int32' },
    ];
    for (const c of cases) {
      // ids in [-2, depth + 2): out-of-range ids leave their row at offValue on both backends
      const ids = Int32Array.from(
        { length: c.ids.reduce((a, b) => a * b, 1) },
        () => rng.int(c.depth + 4) - 2,
      );
      const outs: { dtype: string; shape: number[]; data: number[] }[] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        await tf.setBackend(backend);
        const t = tf.oneHot(tf.tensor(ids, c.ids, 'int32'), c.depth, c.on, c.off, c.dtype);
        outs.push({ dtype: t.dtype, shape: t.shape, data: Array.from(t.dataSync()) });
        t.dispose();
      }
      const [cpu, wasm] = outs;
      expect(wasm, `OneHot ${JSON.stringify(c)}`).toEqual(cpu);
      expect(wasm!.dtype).toBe(c.dtype);
      expect(new Set(wasm!.data), `OneHot ${JSON.stringify(c)}`).toEqual(
        new Set([Math.fround(c.off), ...(ids.some((k) => k >= 0 && k < c.depth) ? [Math.fround(c.on)] : [])]),
      );
    }
  });

  it('OneHot: the stock wasm kernel is wrong for float32 (why it is replaced), and a cross-entropy through ours', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const indices = tf.tensor1d([0, 2, 1], 'int32');
    const stock = stockWasmKernel('OneHot')!.kernelFunc({
      inputs: { indices },
      backend,
      attrs: { dtype: 'float32', depth: 3, onValue: 0.9, offValue: 0.05 },
    }) as tf.TensorInfo;
    const stockData = Array.from(backend.readSync(stock.dataId) as Float32Array);
    backend.disposeData(stock.dataId);
    indices.dispose();
    expect(stockData).not.toEqual(
      Array.from(new Float32Array([0.9, 0.05, 0.05, 0.05, 0.05, 0.9, 0.05, 0.9, 0.05])),
    );
    const logits = randn(6 * 10);
    const labels = Int32Array.from({ length: 6 }, () => rng.int(10));
    await expectSameOnBothBackends(
      () =>
        tf.grads((z: tf.Tensor) =>
          tf.neg(
            tf.sum(
              tf.mul(tf.logSoftmax(z), tf.oneHot(tf.tensor1d(labels, 'int32'), 10, 0.91, 0.01, 'float32')),
            ),
          ),
        )([tf.tensor2d(logits, [6, 10])]),
      'smoothed cross-entropy gradient',
    );
  });

  it('Einsum (forward): matmul, batched, transposes, reductions', async () => {
    const cases: [string, number[][]][] = [
      [
        'ij,jk->ik',
        [
          [3, 4],
          [4, 5],
        ],
      ],
      [
        'bij,bjk->bik',
        [
          [2, 3, 4],
          [2, 4, 5],
        ],
      ],
      ['ij->ji', [[3, 5]]],
      [
        'ij,ij->i',
        [
          [4, 6],
          [4, 6],
        ],
      ],
      [
        'bhqd,bhkd->bhqk',
        [
          [2, 2, 3, 4],
          [2, 2, 5, 4],
        ],
      ],
    ];
    for (const [eq, shapes] of cases) {
      const data = shapes.map((s) => randn(s.reduce((a, b) => a * b, 1)));
      await expectSameOnBothBackends(
        () => tf.einsum(eq, ...shapes.map((s, i) => tf.tensor(data[i]!, s))),
        `einsum ${eq}`,
      );
    }
  });
});

describe('registered kernels free their scratch memory', () => {
  it('wasm and cpu data ids return to baseline after each kernel (incl. the cpu round trip of Einsum)', async () => {
    await tf.setBackend('wasm');
    const wasm = tf.findBackend('wasm')!;
    const cpu = tf.findBackend('cpu')!;
    const calls: [string, () => tf.Tensor][] = [
      [
        'UnsortedSegmentSum',
        () => tf.unsortedSegmentSum(tf.ones([6, 3]), tf.tensor1d([0, 1, 1, 2, 5, -1], 'int32'), 4),
      ],
      [
        'Conv2DBackpropFilter',
        () =>
          run(
            'Conv2DBackpropFilter',
            { x: tf.ones([2, 17, 17, 2]), dy: tf.ones([2, 17, 17, 3]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] },
          ),
      ],
      [
        'Conv2DBackpropInput',
        () =>
          run(
            'Conv2DBackpropInput',
            { dy: tf.ones([1, 4, 4, 3]), filter: tf.ones([3, 3, 2, 3]) },
            { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 8, 8, 2] },
          ),
      ],
      [
        'DepthwiseConv2dNativeBackpropFilter',
        () =>
          run(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: tf.ones([1, 5, 5, 2]), dy: tf.ones([1, 5, 5, 2]) },
            { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 2, 1] },
          ),
      ],
      [
        'DepthwiseConv2dNativeBackpropInput',
        () =>
          run(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: tf.ones([1, 5, 5, 2]), filter: tf.ones([3, 3, 2, 1]) },
            { strides: 1, dilations: 1, pad: 'same', inputShape: [1, 5, 5, 2] },
          ),
      ],
      ['Einsum', () => tf.einsum('ij,jk->ik', tf.ones([2, 3]), tf.ones([3, 4]))],
      ['BatchMatMul', () => tf.matMul(tf.ones([2, 3, 4]), tf.ones([5, 4]), false, true)],
    ];
    for (const [name, f] of calls) {
      const before = [wasm.numDataIds(), cpu.numDataIds()];
      tf.tidy(() => {
        f().dataSync();
      });
      expect([wasm.numDataIds(), cpu.numDataIds()], name).toEqual(before);
    }
  });
});

/** Deterministic pseudo-random values keyed by (n, salt), so both backend runs see the same dy. */
function randnFixed(n: number, salt: number): Float32Array {
  return new Rng(`dy-${salt}-${n}`).fillNormal(new Float32Array(n));
}

function pair(d: number | [number, number]): [number, number] {
  return typeof d === 'number' ? [d, d] : d;
}

/** Zero-inserted filter: conv with `f` at dilation (dh, dw) equals conv with the result at dilation 1. */
function dilateFilter(
  f: Float32Array,
  shape: [number, number, number, number],
  dh: number,
  dw: number,
): { data: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, c, m] = shape;
  const out: [number, number, number, number] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c, m];
  const data = new Float32Array(out.reduce((a, b) => a * b, 1));
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let k = 0; k < c * m; k++)
        data[(i * dh * out[1] + j * dw) * c * m + k] = f[(i * kw + j) * c * m + k]!;
    }
  }
  return { data, shape: out };
}
