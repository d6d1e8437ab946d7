// Pure-TS float64 reference forward of the GPT (small configs only): a second implementation for the
// tfjs model's tests and for ONNX parity. Follows model.ts line by line but with plain loops, explicit
// per-pair RoPE rotation (no swap trick) and an explicit causal loop (no mask tensor).
import { type GPTConfig, headDim } from './config.js';
import { engramInWidth, referenceEngramFusion } from './engram-layer.js';
import type { HostWeights } from './model.js';

function W(host: HostWeights, name: string): Float32Array {
  const t = host[name];
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t.data;
}

/** x [n, a] @ w [a, b] → [n, b] */
export function refMatmul(
  x: Float64Array,
  w: ArrayLike<number>,
  n: number,
  a: number,
  b: number,
): Float64Array {
  const y = new Float64Array(n * b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < a; k++) {
      const xv = x[i * a + k]!;
      if (xv === 0) continue;
      for (let j = 0; j < b; j++) y[i * b + j]! += xv * w[k * b + j]!;
    }
  }
  return y;
}

export function refRmsNorm(
  x: Float64Array,
  w: ArrayLike<number>,
  n: number,
  d: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let ms = 0;
    for (let j = 0; j < d; j++) ms += x[i * d + j]! ** 2;
    const r = 1 / Math.sqrt(ms / d + eps);
    for (let j = 0; j < d; j++) y[i * d + j] = x[i * d + j]! * r * w[j]!;
  }
  return y;
}

/** Rotates pairs (j, j+m/2) of each (head, axis) block by pos[axis]·base^(-2j/m); position 0 = class token, unrotated. */
function refRope(x: Float64Array, c: GPTConfig, B: number): void {
  const T = c.height * c.width;
  const dh = headDim(c);
  const m = dh / 2;
  const half = m / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) {
      const pos = [Math.floor((t - 1) / c.width), (t - 1) % c.width];
      for (let h = 0; h < c.nHead; h++) {
        for (let axis = 0; axis < 2; axis++) {
          for (let j = 0; j < half; j++) {
            const th = pos[axis]! * c.ropeBase ** (-(2 * j) / m);
            const i0 = (b * T + t) * c.dim + h * dh + axis * m + j;
            const i1 = i0 + half;
            const x0 = x[i0]!;
            const x1 = x[i1]!;
            x[i0] = x0 * Math.cos(th) - x1 * Math.sin(th);
            x[i1] = x1 * Math.cos(th) + x0 * Math.sin(th);
          }
        }
      }
    }
  }
}

export interface ReferenceInput {
  codes: Int32Array; // [B, N]
  classes: Int32Array; // [B]
  /** Host-gathered rows, as for GPT.forward. */
  engram?: Float32Array; // [B·T, Le·S·K·dHead]
  gateClamp?: number[];
}

/** Returns logits [B·T, V] and gates [B·T, Le] (Le = 0 for the baseline). */
export function referenceForward(
  c: GPTConfig,
  host: HostWeights,
  input: ReferenceInput,
): { logits: Float64Array; gates: Float64Array } {
  const B = input.classes.length;
  const T = c.height * c.width;
  const d = c.dim;
  const n = B * T;
  const dh = headDim(c);
  const h = new Float64Array(n * d);
  const tok = W(host, 'tok_emb');
  const cls = W(host, 'cls_emb');
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src =
        t === 0 ? cls.subarray(input.classes[b]! * d) : tok.subarray(input.codes[b * T + t - 1]! * d);
      for (let j = 0; j < d; j++) h[(b * T + t) * d + j] = src[j]!;
    }
  }
  const layers = c.engram?.layers ?? [];
  const gates = new Float64Array(n * layers.length);
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blocks.${i}`;
    const li = layers.indexOf(i);
    if (li >= 0) {
      const E = engramInWidth(c.engram!);
      const e = new Float64Array(n * E);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < E; j++) e[r * E + j] = input.engram![r * layers.length * E + li * E + j]!;
      }
      const { y, gate } = referenceEngramFusion(c, host, i, h, e, B, input.gateClamp?.[li] ?? -1);
      for (let k = 0; k < h.length; k++) h[k]! += y[k]!;
      for (let r = 0; r < n; r++) gates[r * layers.length + li] = gate[r]!;
    }
    const a = refRmsNorm(h, W(host, `${p}.attn_norm`), n, d, c.normEps);
    const q = refMatmul(a, W(host, `${p}.wq`), n, d, d);
    const k = refMatmul(a, W(host, `${p}.wk`), n, d, d);
    const v = refMatmul(a, W(host, `${p}.wv`), n, d, d);
    refRope(q, c, B);
    refRope(k, c, B);
    const o = new Float64Array(n * d);
    const s = new Float64Array(T);
    for (let b = 0; b < B; b++) {
      for (let hh = 0; hh < c.nHead; hh++) {
        for (let t = 0; t < T; t++) {
          let mx = -Infinity;
          for (let u = 0; u <= t; u++) {
            let dot = 0;
            for (let j = 0; j < dh; j++)
              dot += q[(b * T + t) * d + hh * dh + j]! * k[(b * T + u) * d + hh * dh + j]!;
            s[u] = dot / Math.sqrt(dh);
            mx = Math.max(mx, s[u]!);
          }
          let z = 0;
          for (let u = 0; u <= t; u++) z += s[u] = Math.exp(s[u]! - mx);
          for (let u = 0; u <= t; u++) {
            const wgt = s[u]! / z;
            for (let j = 0; j < dh; j++)
              o[(b * T + t) * d + hh * dh + j]! += wgt * v[(b * T + u) * d + hh * dh + j]!;
          }
        }
      }
    }
    const ao = refMatmul(o, W(host, `${p}.wo`), n, d, d);
    for (let x = 0; x < h.length; x++) h[x]! += ao[x]!;
    const m = refRmsNorm(h, W(host, `${p}.mlp_norm`), n, d, c.normEps);
    const g = refMatmul(m, W(host, `${p}.w1`), n, d, c.mlpHidden);
    const u3 = refMatmul(m, W(host, `${p}.w3`), n, d, c.mlpHidden);
    for (let x = 0; x < g.length; x++) g[x] = (g[x]! / (1 + Math.exp(-g[x]!))) * u3[x]!;
    const mo = refMatmul(g, W(host, `${p}.w2`), n, c.mlpHidden, d);
    for (let x = 0; x < h.length; x++) h[x]! += mo[x]!;
  }
  const f = refRmsNorm(h, W(host, 'norm_f'), n, d, c.normEps);
  return { logits: refMatmul(f, W(host, 'head'), n, d, c.vocab), gates };
}
