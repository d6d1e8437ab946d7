// Pure-TS float64 reference of the Engram gated fusion (no tfjs): the ground truth for the tfjs layer's
// tests and for ONNX parity checks. Same math as fusion.ts:
//   k = e·W_K, v = e·W_V                                   (weights stored [in, d]: plain 2D matmuls)
//   g = <RMSNorm(h)·w_h, RMSNorm(k)·w_k> / sqrt(d)
//   g ← sign(g)·sqrt(max(|g|, 1e-6));  α = sigmoid(g)     (α = clamp if clamp ≥ 0)
//   y = α·v;  if conv: y += SiLU(conv(RMSNorm(y)·w_c))   (causal depthwise over each sample's sequence)
// with conv(x)[t] = Σ_{i<kernel} W_conv[i] ⊙ x[t − (kernel−1−i)·dilation] (zero before the start), i.e.
// PyTorch's Conv1d(groups=d, padding=(kernel−1)·dilation) truncated to the first T outputs.

/** RMSNorm epsilon of the Engram norms (also written to ONNX manifests). */
export const FUSION_RMS_EPS = 1e-6;
/** Floor of |g| inside the signed square root. */
export const GATE_SQRT_FLOOR = 1e-6;

type Floats = Float32Array | Float64Array;

export interface FusionWeights {
  /** [in, d] */
  wK: Floats;
  /** [in, d] */
  wV: Floats;
  /** [d] */
  normH: Floats;
  /** [d] */
  normK: Floats;
  /** [kernel, d]; present iff the conv is enabled. */
  convWeight?: Floats;
  /** [d] */
  convNorm?: Floats;
}

export interface FusionShape {
  /** B and T with B·T = N rows of h and e (rows are (sample, position) in raster order). */
  batch: number;
  seqLen: number;
  d: number;
  inWidth: number;
  conv?: { kernel: number; dilation: number };
  /** Constant gate α when ≥ 0 (gate clamp); learned gate otherwise. */
  clamp?: number;
  eps?: number;
}

function rmsNormInto(
  x: Float64Array,
  off: number,
  d: number,
  w: Floats,
  eps: number,
  out: Float64Array,
): void {
  let s = 0;
  for (let j = 0; j < d; j++) s += x[off + j]! * x[off + j]!;
  const inv = 1 / Math.sqrt(s / d + eps);
  for (let j = 0; j < d; j++) out[off + j] = x[off + j]! * inv * w[j]!;
}

/** Forward pass in float64. h: [N, d], e: [N, inWidth]. Returns y [N, d] and the gate α [N]. */
export function fusionReference(
  w: FusionWeights,
  h: Floats, // [N, d]
  e: Floats, // [N, inWidth]
  shape: FusionShape,
): { y: Float64Array; gate: Float64Array } {
  const { batch: B, seqLen: T, d, inWidth: I } = shape;
  const eps = shape.eps ?? FUSION_RMS_EPS;
  const N = B * T;
  const k = new Float64Array(N * d);
  const v = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) {
      const x = e[n * I + i]!;
      if (x === 0) continue;
      for (let j = 0; j < d; j++) {
        k[n * d + j]! += x * w.wK[i * d + j]!;
        v[n * d + j]! += x * w.wV[i * d + j]!;
      }
    }
  }
  const h64 = Float64Array.from(h);
  const hn = new Float64Array(N * d);
  const kn = new Float64Array(N * d);
  const gate = new Float64Array(N);
  const y = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    rmsNormInto(h64, n * d, d, w.normH, eps, hn);
    rmsNormInto(k, n * d, d, w.normK, eps, kn);
    let g = 0;
    for (let j = 0; j < d; j++) g += hn[n * d + j]! * kn[n * d + j]!;
    g /= Math.sqrt(d);
    g = Math.sign(g) * Math.sqrt(Math.max(Math.abs(g), GATE_SQRT_FLOOR));
    const a = shape.clamp !== undefined && shape.clamp >= 0 ? shape.clamp : 1 / (1 + Math.exp(-g));
    gate[n] = a;
    for (let j = 0; j < d; j++) y[n * d + j] = a * v[n * d + j]!;
  }
  if (shape.conv) {
    if (!w.convWeight || !w.convNorm)
      throw new Error('fusionReference: conv enabled but conv weights missing');
    const { kernel, dilation } = shape.conv;
    const x = new Float64Array(N * d);
    for (let n = 0; n < N; n++) rmsNormInto(y, n * d, d, w.convNorm, eps, x);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * d;
        for (let j = 0; j < d; j++) {
          let c = 0;
          for (let i = 0; i < kernel; i++) {
            const src = t - (kernel - 1 - i) * dilation;
            if (src >= 0) c += w.convWeight[i * d + j]! * x[(b * T + src) * d + j]!;
          }
          y[row + j]! += c / (1 + Math.exp(-c));
        }
      }
    }
  }
  return { y, gate };
}
