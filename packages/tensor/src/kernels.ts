// Kernels the tfjs wasm backend (4.22) lacks but training in this repo needs. Found by
// scripts/probe-wasm-kernels.ts, which runs forward + backward passes of every op the models use on wasm:
//   UnsortedSegmentSum                     (gradient of gather: embeddings)
//   Conv2DBackpropFilter                   (gradient of conv2d w.r.t. the filter: tokenizer, feature net)
//   DepthwiseConv2dNativeBackpropInput     (gradients of depthwiseConv2d: Engram's short causal conv)
//   DepthwiseConv2dNativeBackpropFilter
//   Einsum                                 (forward only; tfjs has no einsum gradient on any backend)
// and replaces one that exists but is slow where training needs it:
//   BatchMatMul                            (transposed and 3-D×2-D products, i.e. every matmul gradient)
//   Conv2DBackpropInput                    (conv2d input gradient, conv2dTranspose)
// and fixes one that is wrong:
//   OneHot                                 (stock wasm writes int32 bits whatever the dtype, so a float32
//                                           one-hot reads as garbage; int32 still goes to the stock kernel)
// Each is tested against the cpu backend in test/kernels.test.ts.
//
// Working with wasm tensors: `backend.makeOutput` allocates on the wasm heap and `typedArrayFromHeap` gives a
// zero-copy view. Any allocation may grow (and so detach) the heap, so views are always taken after the last
// allocation they must survive.
import * as tf from '@tensorflow/tfjs-core';

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
};

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Gradient of gather: out[s, ...] = Σ_{i: ids[i] = s} x[i, ...]; ids outside [0, numSegments) are dropped. */
function unsortedSegmentSum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const n = tf.util.sizeFromShape(segmentIds.shape);
  const inner =
    n === 0
      ? tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length))
      : tf.util.sizeFromShape(x.shape) / n;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = wasm.makeOutput(outShape, x.dtype);
  const o = wasm.typedArrayFromHeap(out);
  const xs = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
}

/** Geometry of a plain (dilation 1) NHWC conv2d, as both conv2d backprop kernels see it. */
function conv2DInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Pick<tf.Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dimRoundingMode'>,
): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** The sizes the conv2d loops index by, under their short names. */
function conv2DDims(info: Conv2DInfo) {
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    CI: info.inChannels,
    CO: info.outChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    KH: info.filterHeight,
    KW: info.filterWidth,
    SH: info.strideHeight,
    SW: info.strideWidth,
  };
}

/**
 * Columns (output pixels) per im2col chunk. Each chunk's product is summed in float32 inside wasm and the
 * chunks are summed in float64, so a small chunk keeps the float32 accumulation short (the cpu kernel sums in
 * float64) while each matmul is still large enough for SIMD to pay.
 */
const IM2COL_COLUMNS = 256;

/**
 * dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh - pad, ow·s + kw - pad, ci] · dy[b, oh, ow, co].
 * Built as Pᵀ · dy with Pᵀ the transposed im2col matrix [KH·KW·CI, N] of x (N = B·OH·OW) and the product
 * done by wasm's own BatchMatMul (SIMD), in column chunks of N, summed in float64.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error('Conv2DBackpropFilter (wasm, @engram-ar/tensor): only NHWC is supported');
  }
  const info = conv2DInfo(x.shape, filterShape, { strides, pad, dimRoundingMode });
  const { B, H, W, CI, CO, OH, OW, KH, KW, SH, SW } = conv2DDims(info);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const K = KH * KW * CI;
  const N = B * OH * OW;
  const acc = new Float64Array(K * CO);
  const bmm = tf.getKernel(tf.BatchMatMul, 'wasm')!.kernelFunc;
  const chunk = Math.min(N, IM2COL_COLUMNS);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nc = Math.min(chunk, N - n0);
    const pt = wasm.makeOutput([1, K, nc], 'float32');
    const dyc = wasm.makeOutput([1, nc, CO], 'float32');
    const ptv = wasm.typedArrayFromHeap(pt) as Float32Array;
    const xv = wasm.typedArrayFromHeap(x) as Float32Array;
    (wasm.typedArrayFromHeap(dyc) as Float32Array).set(
      (wasm.typedArrayFromHeap(dy) as Float32Array).subarray(n0 * CO, (n0 + nc) * CO),
    );
    ptv.fill(0);
    for (let j = 0; j < nc; j++) {
      const n = n0 + j;
      const b = Math.floor(n / (OH * OW));
      const oh = Math.floor(n / OW) % OH;
      const ow = n % OW;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH + kh - top;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * SW + kw - left;
          if (iw < 0 || iw >= W) continue;
          const src = ((b * H + ih) * W + iw) * CI;
          let row = (kh * KW + kw) * CI * nc + j;
          for (let ci = 0; ci < CI; ci++, row += nc) ptv[row] = xv[src + ci]!;
        }
      }
    }
    const prod = bmm({
      inputs: { a: pt, b: dyc },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
    const pv = wasm.typedArrayFromHeap(prod);
    for (let i = 0; i < acc.length; i++) acc[i]! += pv[i]!;
    wasm.disposeData(prod.dataId);
    wasm.disposeData(pt.dataId);
    wasm.disposeData(dyc.dataId);
  }
  const out = wasm.makeOutput(info.filterShape, 'float32');
  (wasm.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/**
 * dx = Conv2DBackpropInput(dy, W) as one forward convolution, which wasm runs on XNNPACK (~10× its stock
 * backprop loop): dy is dilated by the stride and zero-padded into P [B, H+KH−1, W+KW−1, CO] so that
 *   dx[b, ih, iw, ci] = Σ_{kh, kw, co} P[b, ih+kh, iw+kw, co] · W'[kh, kw, co, ci],
 *   W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]   (filter rotated 180°, in/out channels swapped),
 * with dy[b, oh, ow] placed at P[b, KH−1−top + oh·s, KW−1−left + ow·s]. Positions outside P are never read by
 * any output, so dropping them (explicit paddings larger than the kernel) is exact.
 */
function conv2DBackpropInput(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast' || dy.dtype !== 'float32') {
      return stock(args);
    }
    const wasm = backend as WasmBackend;
    const info = conv2DInfo(inputShape, filter.shape, { strides, pad, dimRoundingMode });
    const { B, H, W, CI, CO, OH, OW, KH, KW, SH, SW } = conv2DDims(info);
    const HP = H + KH - 1;
    const WP = W + KW - 1;
    const top = KH - 1 - info.padInfo.top;
    const left = KW - 1 - info.padInfo.left;
    const p = wasm.makeOutput([B, HP, WP, CO], 'float32');
    const wt = wasm.makeOutput([KH, KW, CO, CI], 'float32');
    const pv = wasm.typedArrayFromHeap(p) as Float32Array;
    const wtv = wasm.typedArrayFromHeap(wt) as Float32Array;
    const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
    const fv = wasm.typedArrayFromHeap(filter) as Float32Array;
    pv.fill(0);
    for (let b = 0; b < B; b++) {
      for (let oh = 0; oh < OH; oh++) {
        const r = top + oh * SH;
        if (r < 0 || r >= HP) continue;
        for (let ow = 0; ow < OW; ow++) {
          const c = left + ow * SW;
          if (c < 0 || c >= WP) continue;
          const src = ((b * OH + oh) * OW + ow) * CO;
          pv.set(dyv.subarray(src, src + CO), ((b * HP + r) * WP + c) * CO);
        }
      }
    }
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const dst = (kh * KW + kw) * CO * CI;
        const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
        for (let ci = 0; ci < CI; ci++) {
          for (let co = 0; co < CO; co++) wtv[dst + co * CI + ci] = fv[src + ci * CO + co]!;
        }
      }
    }
    try {
      const conv = tf.getKernel(tf.Conv2D, 'wasm')!.kernelFunc;
      return conv({
        inputs: { x: p, filter: wt },
        backend,
        attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
      }) as tf.TensorInfo;
    } finally {
      wasm.disposeData(p.dataId);
      wasm.disposeData(wt.dataId);
    }
  };
}

function depthwiseInfo(
  xShape: number[],
  filterShape: number[],
  attrs: tf.DepthwiseConv2dNativeBackpropFilterAttrs | tf.DepthwiseConv2dNativeBackpropInputAttrs,
): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/**
 * Walks every (b, oh, ow, kh, kw) tap of a depthwise conv that lands inside the input and calls
 * `visit(xBase, dyBase, fBase)` with the offsets of x[b, ih, iw, 0], dy[b, oh, ow, 0] and filter[kh, kw, 0, 0].
 */
function forEachDepthwiseTap(
  info: Conv2DInfo,
  visit: (xBase: number, dyBase: number, fBase: number) => void,
): void {
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outChannels: CO,
    outHeight: OH,
    outWidth: OW,
  } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
  const { dilationHeight: DH, dilationWidth: DW } = info;
  const mult = CO / C;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyBase = ((b * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH + kh * DH - info.padInfo.top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW + kw * DW - info.padInfo.left;
            if (iw < 0 || iw >= W) continue;
            visit(((b * H + ih) * W + iw) * C, dyBase, (kh * KW + kw) * C * mult);
          }
        }
      }
    }
  }
}

/** dF[kh, kw, c, q] = Σ x[b, ih, iw, c] · dy[b, oh, ow, c·M + q] over taps (float64 accumulation). */
function depthwiseBackpropFilter({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = depthwiseInfo(x.shape, a.filterShape, a);
  const C = info.inChannels;
  const CM = info.outChannels; // C·M, filter[kh, kw] has C·M entries laid out as [c, q]
  const acc = new Float64Array(tf.util.sizeFromShape(info.filterShape));
  const out = wasm.makeOutput(info.filterShape, 'float32');
  const xv = wasm.typedArrayFromHeap(x);
  const dyv = wasm.typedArrayFromHeap(dy);
  const mult = CM / C;
  forEachDepthwiseTap(info, (xBase, dyBase, fBase) => {
    for (let c = 0; c < C; c++) {
      const xval = xv[xBase + c]!;
      for (let q = 0; q < mult; q++) acc[fBase + c * mult + q]! += xval * dyv[dyBase + c * mult + q]!;
    }
  });
  (wasm.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/** dX[b, ih, iw, c] = Σ dy[b, oh, ow, c·M + q] · filter[kh, kw, c, q] over taps (float64 accumulation). */
function depthwiseBackpropInput({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseInfo(a.inputShape, filter.shape, a);
  const C = info.inChannels;
  const mult = info.outChannels / C;
  const acc = new Float64Array(tf.util.sizeFromShape(info.inShape));
  const out = wasm.makeOutput(info.inShape, 'float32');
  const dyv = wasm.typedArrayFromHeap(dy);
  const fv = wasm.typedArrayFromHeap(filter);
  forEachDepthwiseTap(info, (xBase, dyBase, fBase) => {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let q = 0; q < mult; q++) s += dyv[dyBase + c * mult + q]! * fv[fBase + c * mult + q]!;
      acc[xBase + c]! += s;
    }
  });
  (wasm.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/**
 * Runs the cpu backend's kernel on copies of the inputs (for rarely used kernels where correctness matters
 * more than speed). Inputs may be a map or, as for Einsum, an array.
 */
function viaCpu(kernelName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const cpu = tf.findBackend('cpu');
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpu || !cpuKernel)
      throw new Error(`${kernelName} (wasm, @engram-ar/tensor) needs the cpu backend registered`);
    const wasm = backend as WasmBackend;
    const temps: tf.TensorInfo[] = [];
    const toCpu = (t: tf.TensorInfo): tf.TensorInfo => {
      const c = {
        dataId: cpu.write(wasm.readSync(t.dataId) as Float32Array, t.shape, t.dtype),
        shape: t.shape,
        dtype: t.dtype,
      };
      temps.push(c);
      return c;
    };
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as tf.TensorInfo[]).map(toCpu)
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toCpu(t as tf.TensorInfo)]));
    try {
      const res = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu, attrs });
      const outs = Array.isArray(res) ? res : [res];
      temps.push(...outs);
      const back = outs.map((o) => {
        const w = wasm.makeOutput(o.shape, o.dtype);
        wasm.typedArrayFromHeap(w).set(cpu.readSync(o.dataId) as Float32Array);
        return w;
      });
      return Array.isArray(res) ? back : back[0]!;
    } finally {
      for (const t of temps) cpu.disposeData(t.dataId);
    }
  };
}

/**
 * Speeds up the stock wasm BatchMatMul, which runs XNNPACK only for one untransposed [M,K]·[K,N] product
 * (~30 GFLOP/s) and a plain loop otherwise (~3 GFLOP/s). When b has a single batch (weights: 2-D, or
 * [1,…,1,K,N]) we materialise any transposes with wasm's Transpose kernel (cheap: O(size) vs O(M·K·N)) and
 * fold a's batch dims into M, so the product is one untransposed XNNPACK call. This covers x·W for 3-D x and
 * both matmul gradients (dy·Wᵀ and xᵀ·dy). Truly batched products (attention) go to the stock kernel.
 */
function fastBatchMatMul(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const untouched = batchA === 1 && !transposeA && !transposeB;
    if (batchB !== 1 || untouched || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    const wasm = backend as WasmBackend;
    const transpose = tf.getKernel(tf.Transpose, 'wasm')!.kernelFunc;
    const temps: tf.TensorInfo[] = [];
    const swapLast2 = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      const aa = transposeA ? swapLast2(a) : a; // [..., M, K]
      const bb = transposeB ? swapLast2(b) : b; // [..., K, N]
      const M = aa.shape[aa.shape.length - 2]!;
      const K = aa.shape[aa.shape.length - 1]!;
      const N = bb.shape[bb.shape.length - 1]!;
      if (bb.shape[bb.shape.length - 2] !== K) {
        throw new Error(
          `Error in matMul: inner shapes (${K}) and (${bb.shape[bb.shape.length - 2]}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
        );
      }
      const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
      const out = stock({
        inputs: {
          a: { dataId: aa.dataId, shape: [1, batchA * M, K], dtype: 'float32' },
          b: { dataId: bb.dataId, shape: [1, K, N], dtype: 'float32' },
        },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      out.shape = [...batchShape, M, N];
      return out;
    } finally {
      for (const t of temps) wasm.disposeData(t.dataId);
    }
  };
}

/**
 * The stock wasm OneHot (C++ `OneHot(indices, depth, int on, int off, out)`) stores int32 values into the
 * output buffer whatever `dtype` says, so `tf.oneHot(ids, d, 1, 0, 'float32')` on wasm holds the bit patterns
 * of int 1 and 0 (1.4e-45 and 0) and fractional on/off values are truncated. int32 outputs are right and stay
 * on the stock kernel; every other dtype is filled here on the wasm heap with cpu semantics: offValue
 * everywhere, onValue at out[i, ids[i]] for 0 ≤ ids[i] < depth, out-of-range ids leave the row off.
 */
function oneHot(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { indices } = inputs as { indices: tf.TensorInfo };
    const { dtype, depth, onValue, offValue } = attrs as unknown as tf.OneHotAttrs;
    if (dtype === 'int32') return stock(args);
    const wasm = backend as WasmBackend;
    const n = tf.util.sizeFromShape(indices.shape);
    const out = wasm.makeOutput([...indices.shape, depth], dtype);
    const o = wasm.typedArrayFromHeap(out); // [n, depth]
    const ids = wasm.typedArrayFromHeap(indices);
    o.fill(offValue);
    for (let i = 0; i < n; i++) {
      const k = ids[i]!;
      if (k >= 0 && k < depth) o[i * depth + k] = onValue;
    }
    return out;
  };
}

const KERNELS: tf.KernelConfig[] = [
  { kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum },
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: 'wasm',
    kernelFunc: depthwiseBackpropFilter,
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: 'wasm',
    kernelFunc: depthwiseBackpropInput,
  },
  { kernelName: tf.Einsum, backendName: 'wasm', kernelFunc: viaCpu(tf.Einsum) },
];

/** Names of the kernels this package adds to the wasm backend. */
export const REGISTERED_WASM_KERNELS: string[] = KERNELS.map((k) => k.kernelName);

const REPLACEMENTS: [string, (stock: tf.KernelFunc) => tf.KernelFunc][] = [
  [tf.BatchMatMul, fastBatchMatMul],
  [tf.Conv2DBackpropInput, conv2DBackpropInput],
  [tf.OneHot, oneHot],
];

/** Stock wasm kernels this package wraps: a faster path (same results within float32 rounding) or a fix (OneHot). */
export const REPLACED_WASM_KERNELS: string[] = REPLACEMENTS.map(([name]) => name);

const ours = new WeakSet<tf.KernelFunc>();
const stockKernels = new Map<string, tf.KernelConfig>();

/** The stock tfjs-backend-wasm kernel behind a replaced one (for benchmarks and comparisons). */
export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

/** Registers the missing wasm kernels (skipping any a newer tfjs provides) and the faster replacements. Idempotent. */
export function registerWasmKernels(): void {
  for (const k of KERNELS) {
    if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  }
  for (const [name, wrap] of REPLACEMENTS) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock || ours.has(stock.kernelFunc)) continue;
    const kernelFunc = wrap(stock.kernelFunc);
    ours.add(kernelFunc);
    stockKernels.set(name, stock);
    // keep the stock setupFunc: it binds the wasm function the wrapped kernel calls
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc });
  }
}
