// Code grids → images through the tokenizer's decoder.onnx (input `codes` [B, h, w] int64, output
// `images` [B, C, H, W] float32 in [-1, 1]), batched, with ONNX Runtime only.
import { createSession, ort, type Session } from '@engram-ar/onnx';

export interface DecodedImages {
  /** Pixels in [-1, 1]. [n, C, H, W] */
  images: Float32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
}

/** Runs `decoder` (a .onnx path or an open session) over codes [n, h, w] in batches of `batchSize`. */
export async function decodeCodes(
  decoder: string | Session,
  codes: Int32Array, // [n, h, w]
  shape: readonly [number, number, number],
  opts: { batchSize?: number } = {},
): Promise<DecodedImages> {
  const [n, h, w] = shape;
  if (codes.length !== n * h * w)
    throw new Error(`decodeCodes: codes has ${codes.length} ids, shape needs ${n * h * w}`);
  const session = typeof decoder === 'string' ? await createSession(decoder) : decoder;
  try {
    const bs = opts.batchSize ?? 64;
    let out: Float32Array | null = null;
    let dims: readonly number[] = [];
    for (let s = 0; s < n; s += bs) {
      const b = Math.min(bs, n - s);
      const ids = BigInt64Array.from(codes.subarray(s * h * w, (s + b) * h * w), BigInt);
      const r = await session.run({ codes: new ort.Tensor('int64', ids, [b, h, w]) });
      const img = r.images;
      if (!img)
        throw new Error(`decodeCodes: decoder has no 'images' output (outputs: ${session.outputNames})`);
      dims = img.dims;
      const per = dims[1]! * dims[2]! * dims[3]!;
      out ??= new Float32Array(n * per);
      out.set(img.data as Float32Array, s * per);
    }
    return {
      images: out ?? new Float32Array(0),
      n,
      channels: dims[1] ?? 0,
      height: dims[2] ?? 0,
      width: dims[3] ?? 0,
    };
  } finally {
    if (typeof decoder === 'string') await session.release();
  }
}

/** [-1, 1] NCHW floats → uint8 NHWC (the layout of ImageDataset.images and writeGridPng). */
export function imagesToUint8(d: DecodedImages): Uint8Array {
  const { n, channels: c, height: H, width: W, images } = d;
  const out = new Uint8Array(n * H * W * c);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = Math.round((images[((b * c + k) * H + y) * W + x]! + 1) * 127.5);
          out[((b * H + y) * W + x) * c + k] = v < 0 ? 0 : Math.min(v, 255);
        }
  return out;
}
