// Pixel conversions between the dataset layout (uint8 [N,H,W,C], 0..255) and the tokenizer's
// float range [-1, 1] in either NHWC (what tfjs trains on) or NCHW (the public/ONNX layout).
import type { ImageDataset } from '@engram-ar/datasets';

/** Rows `indices` of ds as float32 [B,H,W,C] in [-1,1]. */
export function batchNhwc(ds: ImageDataset, indices: ArrayLike<number>): Float32Array {
  const per = ds.height * ds.width * ds.channels;
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]! * per;
    const dst = i * per;
    for (let j = 0; j < per; j++) out[dst + j] = ds.images[src + j]! / 127.5 - 1;
  }
  return out;
}

/** Images [start, start+n) of ds as float32 [n,C,H,W] in [-1,1]. */
export function imagesNchw(ds: ImageDataset, start = 0, n = ds.labels.length - start): Float32Array {
  const { height: h, width: w, channels: c } = ds;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          out[((b * c + k) * h + y) * w + x] =
            ds.images[(((start + b) * h + y) * w + x) * c + k]! / 127.5 - 1;
  return out;
}

/** float32 [N,C,H,W] in [-1,1] → uint8 [N,H,W,C] (rounded, clamped), e.g. for PNG grids. */
export function nchwToUint8(x: Float32Array, n: number, c: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const v = Math.round((x[((b * c + k) * h + y) * w + xx]! + 1) * 127.5);
          out[((b * h + y) * w + xx) * c + k] = Math.max(0, Math.min(255, v));
        }
  return out;
}
