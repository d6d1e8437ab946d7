// Plain-loop references for the tests: a direct convolution and its two adjoints, in float64.

export interface ConvCase {
  x: Float32Array; // [B,H,W,Ci]
  xShape: [number, number, number, number];
  w: Float32Array; // [k,k,Ci,Co]
  k: number;
  co: number;
  stride: number;
  pads: [number, number, number, number]; // top, bottom, left, right
}

export function outSize(c: ConvCase): [number, number] {
  const [, h, w] = c.xShape;
  return [
    Math.floor((h + c.pads[0] + c.pads[1] - c.k) / c.stride) + 1,
    Math.floor((w + c.pads[2] + c.pads[3] - c.k) / c.stride) + 1,
  ];
}

/** Visits every (output pixel, tap, input channel) product once. */
function each(c: ConvCase, f: (xi: number, wi: number, yi: number) => void): void {
  const [b, h, w, ci] = c.xShape;
  const [ho, wo] = outSize(c);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let ky = 0; ky < c.k; ky++)
          for (let kx = 0; kx < c.k; kx++) {
            const y = i * c.stride + ky - c.pads[0];
            const x = j * c.stride + kx - c.pads[2];
            if (y < 0 || y >= h || x < 0 || x >= w) continue;
            for (let a = 0; a < ci; a++)
              for (let o = 0; o < c.co; o++)
                f(
                  ((n * h + y) * w + x) * ci + a,
                  ((ky * c.k + kx) * ci + a) * c.co + o,
                  ((n * ho + i) * wo + j) * c.co + o,
                );
          }
}

export function convRef(c: ConvCase): Float64Array {
  const [ho, wo] = outSize(c);
  const out = new Float64Array(c.xShape[0] * ho * wo * c.co);
  each(c, (xi, wi, yi) => {
    out[yi]! += c.x[xi]! * c.w[wi]!;
  });
  return out;
}

/** Gradients of sum(conv(x, w) · dy) with respect to x and w. */
export function convGradRef(c: ConvCase, dy: Float32Array): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(c.x.length);
  const dw = new Float64Array(c.w.length);
  each(c, (xi, wi, yi) => {
    dx[xi]! += dy[yi]! * c.w[wi]!;
    dw[wi]! += dy[yi]! * c.x[xi]!;
  });
  return { dx, dw };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
