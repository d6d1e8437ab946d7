// 2-D convolution whose backward pass is written with forward convolutions only.
//
// Why: on the wasm backend the forward Conv2D runs through XNNPACK (~30 GFLOP/s) while the stock
// backward kernels are a plain loop (Conv2DBackpropInput, ~3 GFLOP/s) or missing
// (Conv2DBackpropFilter). Both gradients are convolutions in disguise:
//   dX = conv(pad(dilate(dY, s), k-1), flip(Wᵀ))            (full correlation with the flipped filter)
//   dW = conv(Xᵀ [Ci,H,W,B], dYᵀ [Ho,Wo,B,Co], dilation s) (batch plays the role of channels)
// so one 3×3 layer's forward+backward costs three fast convolutions instead of one fast and two slow
// (bench/conv-grad.ts compares it with the stock kernels).
import { tf } from '@engram-ar/tensor';

type T4 = tf.Tensor4D;

/** Inserts `s - 1` zero rows/columns between the pixels of x [B,H,W,C] → [B,(H-1)s+1,(W-1)s+1,C]. */
function dilate(x: T4, s: number): T4 {
  if (s === 1) return x;
  const [b, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [b, h, 1, w, 1, c]);
  const padded = tf.pad(x6, [
    [0, 0],
    [0, 0],
    [0, s - 1],
    [0, 0],
    [0, s - 1],
    [0, 0],
  ]);
  const full = tf.reshape(padded, [b, h * s, w * s, c]) as T4;
  return tf.slice(full, [0, 0, 0, 0], [b, (h - 1) * s + 1, (w - 1) * s + 1, c]);
}

type Pads = [number, number, number, number]; // top, bottom, left, right

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

function explicit(p: Pads): ExplicitPadding {
  return [
    [0, 0],
    [p[0], p[1]],
    [p[2], p[3]],
    [0, 0],
  ];
}

function backpropInput(
  dy: T4,
  w: T4,
  inShape: [number, number, number, number],
  stride: number,
  p: Pads,
): T4 {
  const k = w.shape[0];
  const [, h, wd] = inShape;
  const d = dilate(dy, stride);
  // Full correlation of the dilated dY over the padded input, restricted to the unpadded rows: pad
  // k-1 on each side, minus the forward padding, plus the rows the stride never reached.
  const extraH = h + p[0] + p[1] - (d.shape[1] + k - 1);
  const extraW = wd + p[2] + p[3] - (d.shape[2] + k - 1);
  const wf = tf.reverse(tf.transpose(w, [0, 1, 3, 2]), [0, 1]) as T4;
  return tf.conv2d(
    d,
    wf,
    1,
    explicit([k - 1 - p[0], k - 1 - p[1] + extraH, k - 1 - p[2], k - 1 - p[3] + extraW]),
  );
}

function backpropFilter(x: T4, dy: T4, k: number, stride: number, p: Pads): T4 {
  const xt = tf.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, B]
  const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, Co]
  const r = tf.conv2d(xt, dyt, 1, explicit(p), 'NHWC', stride); // [Ci, ≥k, ≥k, Co]
  const [ci, rh, rw, co] = r.shape;
  const rk = rh === k && rw === k ? r : tf.slice(r, [0, 0, 0, 0], [ci, k, k, co]);
  return tf.transpose(rk, [1, 2, 0, 3]);
}

const kernels = new Map<string, (x: T4, w: T4) => T4>();

/** Padding is passed to the convolutions themselves, so no Pad/Slice ops (slow on wasm) are taped. */
function convKernel(stride: number, p: Pads): (x: T4, w: T4) => T4 {
  const key = `${stride}:${p.join(',')}`;
  let f = kernels.get(key);
  if (!f) {
    f = tf.customGrad((x, w, save) => {
      const xx = x as T4;
      const ww = w as T4;
      (save as tf.GradSaveFunc)([xx, ww]);
      return {
        value: tf.conv2d(xx, ww, stride, explicit(p)),
        gradFunc: (dy, saved) => {
          const [xs, ws] = saved as [T4, T4];
          return [
            backpropInput(dy as T4, ws, xs.shape, stride, p),
            backpropFilter(xs, dy as T4, ws.shape[0], stride, p),
          ];
        },
      };
    }) as (x: T4, w: T4) => T4;
    kernels.set(key, f);
  }
  return f;
}

/** Zero padding [top, bottom, left, right] of a k×k conv with this stride (VQGAN convention). */
export function convPads(k: number, stride: number): Pads {
  if (stride === 1) {
    const p = (k - 1) >> 1;
    return [p, k - 1 - p, p, k - 1 - p];
  }
  // Stride-2 downsampling pads only bottom/right by one, as VQGAN's Downsample: H → ceil(H / 2) for k = 3.
  return [0, 1, 0, 1];
}

/** x [B,H,W,Ci] * w [k,k,Ci,Co] + b [Co], zero-padded by `convPads`. */
export function conv2d(x: T4, w: T4, b: tf.Tensor1D, stride: 1 | 2): T4 {
  return tf.add(convKernel(stride, convPads(w.shape[0], stride))(x, w), b);
}
