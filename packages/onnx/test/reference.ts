// Plain TS reference implementations the ORT results are compared against.
import type { Rng } from '@engram-ar/tensor/rng';

export function randn(rng: Rng, n: number, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), 0, std);
}

/** [M,K] x [K,N] → [M,N], accumulated in float64. */
export function matmulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

/** Softmax over the last axis of rows of length `d`. */
export function softmaxRef(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let max = -Infinity;
    for (let j = 0; j < d; j++) max = Math.max(max, x[r * d + j]!);
    let sum = 0;
    for (let j = 0; j < d; j++) sum += Math.exp(x[r * d + j]! - max);
    for (let j = 0; j < d; j++) out[r * d + j] = Math.exp(x[r * d + j]! - max) / sum;
  }
  return out;
}

export function layerNormRef(x: Float32Array, d: number, g: Float32Array, b: Float32Array, eps: number) {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[r * d + j]!;
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = (x[r * d + j]! - mean) * inv * g[j]! + b[j]!;
  }
  return out;
}

export function rmsNormRef(x: Float32Array, d: number, g: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let ms = 0;
    for (let j = 0; j < d; j++) ms += x[r * d + j]! ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = x[r * d + j]! * inv * g[j]!;
  }
  return out;
}

/**
 * Single-head causal attention for one sequence: q, k, v [T, D] → [T, D], row t attending to
 * keys 0..t with scale 1/sqrt(D).
 */
export function causalAttentionRef(q: Float32Array, k: Float32Array, v: Float32Array, t: number, d: number) {
  const out = new Float32Array(t * d);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < t; i++) {
    const s = new Float64Array(i + 1);
    let max = -Infinity;
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[i * d + c]! * k[j * d + c]!;
      s[j] = dot * scale;
      max = Math.max(max, s[j]!);
    }
    let sum = 0;
    for (let j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j]! - max);
    for (let j = 0; j <= i; j++) {
      for (let c = 0; c < d; c++) out[i * d + c] += (s[j]! / sum) * v[j * d + c]!;
    }
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** cos/sin tables [maxPos, rotaryDim/2] with theta(p, i) = p * base^(-2i / rotaryDim). */
export function ropeCaches(maxPos: number, rotaryDim: number, base = 10000) {
  const half = rotaryDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const theta = p * base ** ((-2 * i) / rotaryDim);
      cos[p * half + i] = Math.cos(theta);
      sin[p * half + i] = Math.sin(theta);
    }
  }
  return { cos, sin };
}

/**
 * RoPE on x [B, T, N·H] at positions pos [B·T]: per head, the first rotaryDim channels are
 * rotated pairwise (i, i + rotaryDim/2), or (2i, 2i+1) when interleaved.
 */
export function ropeRef(
  x: Float32Array,
  pos: ArrayLike<number>,
  n: number,
  h: number,
  rotaryDim: number,
  caches: { cos: Float32Array; sin: Float32Array },
  interleaved: boolean,
): Float32Array {
  const out = Float32Array.from(x);
  const half = rotaryDim / 2;
  for (let row = 0; row < pos.length; row++) {
    for (let head = 0; head < n; head++) {
      const base = row * n * h + head * h;
      for (let i = 0; i < half; i++) {
        const c = caches.cos[pos[row]! * half + i]!;
        const s = caches.sin[pos[row]! * half + i]!;
        const [a, b] = interleaved ? [base + 2 * i, base + 2 * i + 1] : [base + i, base + i + half];
        out[a] = x[a]! * c - x[b]! * s;
        out[b] = x[b]! * c + x[a]! * s;
      }
    }
  }
  return out;
}

/** Causal multi-head attention for one sequence, q/k/v [T, N·H] → [T, N·H]. */
export function multiHeadCausalRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  t: number,
  n: number,
  h: number,
) {
  const out = new Float32Array(t * n * h);
  const pick = (x: Float32Array, head: number) => {
    const r = new Float32Array(t * h);
    for (let i = 0; i < t; i++) r.set(x.subarray(i * n * h + head * h, i * n * h + (head + 1) * h), i * h);
    return r;
  };
  for (let head = 0; head < n; head++) {
    const o = causalAttentionRef(pick(q, head), pick(k, head), pick(v, head), t, h);
    for (let i = 0; i < t; i++) out.set(o.subarray(i * h, (i + 1) * h), i * n * h + head * h);
  }
  return out;
}
