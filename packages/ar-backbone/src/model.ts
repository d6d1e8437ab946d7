// Class-conditional GPT over raster-ordered code grids (LlamaGen-style), nanoGPT-sized: one file.
//
// Sequence (length T = N = H·W):   position 0 = class token, position t ≥ 1 = code[t-1];
// the output at position t predicts code[t]. So logits row b·T + t is the distribution of code (b, t).
//
// Block (pre-norm, no biases):
//   h ← h + EngramFusion(h, e)            (only at Engram layers, first thing in the block)
//   h ← h + Wo·Attn(RoPE(Wq·n), RoPE(Wk·n), Wv·n),  n = RMSNorm(h)
//   h ← h + W2·(SiLU(W1·n) ⊙ W3·n),                 n = RMSNorm(h)
// then RMSNorm and a zero-initialised head.
//
// 2D RoPE: in every head, the first half of the dims rotates by the ROW of the input token's grid
// cell and the second half by its COLUMN (each half in the rotate-half layout: pair (j, j+m/2) with
// frequency base^(-2j/m), m = headDim/2). The input token at position t ≥ 1 is code[t-1], so it sits
// at cell (t-1) = (⌊(t-1)/W⌋, (t-1) mod W). The class token (t = 0) has no cell: it is not rotated
// (cos = 1, sin = 0), as in LlamaGen. Relative offsets between any two code tokens are therefore
// exact 2D offsets, and the class token is position-free.
//
// Speed on the wasm backend: every projection is a plain 2D matmul on [B·T, d]; gradients go through
// `matmul2d`, whose custom gradient transposes explicitly (tfjs's transposed matmul is ~10× slower).
//
// Weight layout: linear weights are stored [in, out] (y = x @ W); names are flat (see weightSpecs).

import type { EngramFusion } from '@engram-ar/engram/fusion';
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { type GPTConfig, headDim } from './config.js';
import { engramInWidth, engramWeightSpecs, makeFusions } from './engram-layer.js';

type CustomGradFunc = Parameters<typeof tf.customGrad>[0];
let instances = 0;

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
/** Weights on the host, in canonical order (weightSpecs order). */
export type HostWeights = Record<string, HostTensor>;

export interface WeightSpec {
  name: string;
  shape: number[];
  /** 'normal' = N(0, 0.02²) (LlamaGen), 'ones' for RMSNorm gains, 'zeros' for the head. */
  init: 'normal' | 'ones' | 'zeros';
  /** AdamW weight decay applies to matrices and embeddings, never to norms. */
  decay: boolean;
}

/** Every dense weight of the model with its flat name, shape and init; the order is canonical. */
export function weightSpecs(c: GPTConfig): WeightSpec[] {
  const d = c.dim;
  const mat = (name: string, shape: number[]): WeightSpec => ({ name, shape, init: 'normal', decay: true });
  const norm = (name: string): WeightSpec => ({ name, shape: [d], init: 'ones', decay: false });
  const specs: WeightSpec[] = [mat('tok_emb', [c.vocab, d]), mat('cls_emb', [c.numClasses + 1, d])];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blocks.${i}`;
    if (c.engram?.layers.includes(i)) specs.push(...engramWeightSpecs(c, i));
    specs.push(
      norm(`${p}.attn_norm`),
      mat(`${p}.wq`, [d, d]),
      mat(`${p}.wk`, [d, d]),
      mat(`${p}.wv`, [d, d]),
      mat(`${p}.wo`, [d, d]),
      norm(`${p}.mlp_norm`),
      mat(`${p}.w1`, [d, c.mlpHidden]),
      mat(`${p}.w3`, [d, c.mlpHidden]),
      mat(`${p}.w2`, [c.mlpHidden, d]),
    );
  }
  specs.push(norm('norm_f'), { name: 'head', shape: [d, c.vocab], init: 'zeros', decay: true });
  return specs;
}

/** Deterministic host-side init from Rng(seed).split('init') — the same on every backend. */
export function initHostWeights(c: GPTConfig): HostWeights {
  const rng = new Rng(c.seed).split('init');
  const out: HostWeights = {};
  for (const s of weightSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.init === 'normal') rng.split(s.name).fillNormal(data, 0, 0.02);
    else if (s.init === 'ones') data.fill(1);
    out[s.name] = { shape: s.shape, data };
  }
  return out;
}

/** y = a @ b for 2D or batched 3D tensors; on wasm its gradient never uses transposed matmul. */
export function matmul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D;
export function matmul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D;
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const body = (x: tf.Tensor2D, y: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, y]);
    const perm = x.rank === 2 ? [1, 0] : [0, 2, 1];
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
        // Native backends (tfjs-node, webgl) transpose for free inside the matmul; wasm does not.
        if (tf.getBackend() !== 'wasm')
          return [tf.matMul(dy, ys, false, true), tf.matMul(xs, dy, true, false)];
        return [tf.matMul(dy, tf.transpose(ys, perm)), tf.matMul(tf.transpose(xs, perm), dy)];
      },
    };
  };
  return tf.customGrad(body as unknown as CustomGradFunc)(a, b);
}

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number): tf.Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/**
 * cos/sin tables [T, d] for 2D RoPE (tiled over heads). `sin` carries the rotate-half sign: the
 * rotation is x·cos + swapHalves(x)·sin, with sin negated on the first half of each pair block.
 */
export function ropeTables(c: GPTConfig): { cos: Float32Array; sin: Float32Array } {
  const T = c.height * c.width;
  const dh = headDim(c);
  const m = dh / 2; // dims per axis (row or column)
  const half = m / 2; // rotation pairs per axis
  const cos = new Float32Array(T * c.dim);
  const sin = new Float32Array(T * c.dim);
  for (let t = 0; t < T; t++) {
    const cell = t - 1;
    const pos = t === 0 ? [0, 0] : [Math.floor(cell / c.width), cell % c.width];
    for (let h = 0; h < c.nHead; h++) {
      for (let axis = 0; axis < 2; axis++) {
        for (let j = 0; j < m; j++) {
          const jj = j % half;
          const theta = t === 0 ? 0 : pos[axis]! * c.ropeBase ** (-jj / half);
          const idx = t * c.dim + h * dh + axis * m + j;
          cos[idx] = Math.cos(theta);
          sin[idx] = (j < half ? -1 : 1) * Math.sin(theta);
        }
      }
    }
  }
  return { cos, sin };
}

export interface ForwardInput {
  /** Code grids, raster order. */
  codes: Int32Array; // [B, N]
  /** Class ids (numClasses = null class). */
  classes: Int32Array; // [B]
  /**
   * Host-gathered table rows for every position: EngramTable.gatherRows(rowsForGrids(...)) viewed as
   * [B·T, Le·E], E = S·K·dHead; layer li (config order) reads columns [li·E, (li+1)·E).
   */
  engram?: tf.Tensor2D; // [B·T, Le·S·K·dHead]
  /** Per Engram layer (config order): α = clamp when ≥ 0, the learned gate when negative/absent. */
  gateClamp?: number[];
}

export interface ForwardOutput {
  logits: tf.Tensor2D; // [B·T, V]
  /** Gate α per position and Engram layer (null for the baseline). */
  gates: tf.Tensor2D | null; // [B·T, Le]
}

export class GPT {
  readonly config: GPTConfig;
  readonly weights: Map<string, tf.Variable>;
  readonly specs: WeightSpec[];
  private readonly cos: tf.Tensor2D; // [T, d]
  private readonly sin: tf.Tensor2D; // [T, d]
  private readonly mask: tf.Tensor2D; // [T, T], 0 on/below the diagonal, -1e9 above
  private readonly fusions: Map<number, EngramFusion>;

  constructor(config: GPTConfig, host: HostWeights = initHostWeights(config)) {
    this.config = config;
    this.specs = weightSpecs(config);
    this.weights = new Map();
    // tfjs variable names are global: prefix them per instance so several models can coexist.
    const uid = `gpt${instances++}`;
    for (const s of this.specs) {
      const hw = host[s.name];
      if (!hw) throw new Error(`GPT: missing weight ${s.name}`);
      if (s.name.startsWith('engram.')) continue;
      if (hw.shape.join(',') !== s.shape.join(',')) {
        throw new Error(`GPT: weight ${s.name} has shape [${hw.shape}], expected [${s.shape}]`);
      }
      // tf.variable keeps its own copy: the initial tensor is freed by the tidy.
      this.weights.set(
        s.name,
        tf.tidy(() => tf.variable(tf.tensor(hw.data, s.shape, 'float32'), true, `${uid}/${s.name}`)),
      );
    }
    const T = config.height * config.width;
    const { cos, sin } = ropeTables(config);
    this.cos = tf.tensor2d(cos, [T, config.dim]);
    this.sin = tf.tensor2d(sin, [T, config.dim]);
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    this.mask = tf.tensor2d(mask, [T, T]);
    // Engram fusion layers own their variables (engram's names); the map below shares them.
    this.fusions = makeFusions(config, host);
    for (const f of this.fusions.values()) {
      for (const [name, v] of Object.entries(f.variables())) this.weights.set(name, v);
    }
  }

  /** A weight by name, typed 2D for the matmuls (norm gains are 1D; the type only guides matmul). */
  private w(name: string): tf.Tensor2D {
    const v = this.weights.get(name);
    if (!v) throw new Error(`GPT: no weight ${name}`);
    return v as unknown as tf.Tensor2D;
  }

  /** Applies 2D RoPE to x [B·T, d]. */
  private rope(x: tf.Tensor2D, B: number): tf.Tensor2D {
    const c = this.config;
    const T = c.height * c.width;
    const q = headDim(c) / 4;
    // swapHalves inside every (head, axis) block: view [.., 2, q] and swap the two halves. Slice + concat
    // (tf.reverse on the size-2 axis is equivalent but ~5× slower on wasm).
    const r = tf.reshape(x, [B * T * c.nHead * 2, 2, q]);
    const swapped = tf.reshape(
      tf.concat([tf.slice(r, [0, 1, 0], [-1, 1, q]), tf.slice(r, [0, 0, 0], [-1, 1, q])], 1),
      [B, T, c.dim],
    );
    const x3 = tf.reshape(x, [B, T, c.dim]);
    return tf.reshape(tf.add(tf.mul(x3, this.cos), tf.mul(swapped, this.sin)), [B * T, c.dim]);
  }

  /** [B·T, d] → [B·H, T, Dh] */
  private heads(x: tf.Tensor2D, B: number): tf.Tensor3D {
    const c = this.config;
    const T = c.height * c.width;
    const dh = headDim(c);
    return tf.reshape(tf.transpose(tf.reshape(x, [B, T, c.nHead, dh]), [0, 2, 1, 3]), [B * c.nHead, T, dh]);
  }

  private attention(n: tf.Tensor2D, i: number, B: number): tf.Tensor2D {
    const c = this.config;
    const T = c.height * c.width;
    const dh = headDim(c);
    const p = `blocks.${i}`;
    const q = this.heads(this.rope(matmul(n, this.w(`${p}.wq`)), B), B);
    const k = this.heads(this.rope(matmul(n, this.w(`${p}.wk`)), B), B);
    const v = this.heads(matmul(n, this.w(`${p}.wv`)), B);
    const scores = tf.add(
      tf.mul(matmul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dh)),
      this.mask,
    ) as tf.Tensor3D;
    const o = matmul(tf.softmax(scores), v); // [B·H, T, Dh]
    const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, c.nHead, T, dh]), [0, 2, 1, 3]), [
      B * T,
      c.dim,
    ]) as tf.Tensor2D;
    return matmul(merged, this.w(`${p}.wo`));
  }

  private mlp(n: tf.Tensor2D, i: number): tf.Tensor2D {
    const p = `blocks.${i}`;
    const a = matmul(n, this.w(`${p}.w1`));
    const g = tf.mul(a, tf.sigmoid(a)); // SiLU
    return matmul(tf.mul(g, matmul(n, this.w(`${p}.w3`))), this.w(`${p}.w2`));
  }

  /** Input embeddings [B·T, d]: class embedding at t = 0, code[t-1] embedding at t ≥ 1. */
  private embed(codes: Int32Array, classes: Int32Array, B: number): tf.Tensor2D {
    const c = this.config;
    const N = c.height * c.width;
    const prev = new Int32Array(B * (N - 1));
    for (let b = 0; b < B; b++) prev.set(codes.subarray(b * N, b * N + N - 1), b * (N - 1));
    const cls = tf.reshape(tf.gather(this.w('cls_emb'), tf.tensor1d(classes, 'int32')), [B, 1, c.dim]);
    if (N === 1) return tf.reshape(cls, [B, c.dim]);
    const tok = tf.reshape(tf.gather(this.w('tok_emb'), tf.tensor1d(prev, 'int32')), [B, N - 1, c.dim]);
    return tf.reshape(tf.concat([cls, tok], 1), [B * N, c.dim]);
  }

  /** Full teacher-forced forward. Call inside tf.tidy (or a gradient function). */
  forward(input: ForwardInput): ForwardOutput {
    const c = this.config;
    const N = c.height * c.width;
    const B = input.classes.length;
    if (input.codes.length !== B * N) {
      throw new Error(`forward: codes has ${input.codes.length} ids, expected B·N = ${B}·${N}`);
    }
    const layers = c.engram?.layers ?? [];
    const E = c.engram ? engramInWidth(c.engram) : 0;
    if (layers.length && input.engram?.shape.join(',') !== `${B * N},${layers.length * E}`) {
      throw new Error(`forward: engram rows must be [B·T, Le·E] = [${B * N}, ${layers.length * E}]`);
    }
    let h = this.embed(input.codes, input.classes, B);
    const gates: tf.Tensor1D[] = [];
    for (let i = 0; i < c.nLayer; i++) {
      const li = layers.indexOf(i);
      if (li >= 0) {
        const e = layers.length === 1 ? input.engram! : tf.slice(input.engram!, [0, li * E], [B * N, E]);
        const { y, gate } = this.fusions
          .get(i)!
          .apply(h, e, { batch: B, seqLen: N, clamp: input.gateClamp?.[li] });
        h = tf.add(h, y);
        gates.push(gate);
      }
      h = tf.add(h, this.attention(rmsNorm(h, this.w(`blocks.${i}.attn_norm`), c.normEps), i, B));
      h = tf.add(h, this.mlp(rmsNorm(h, this.w(`blocks.${i}.mlp_norm`), c.normEps), i));
    }
    const logits = matmul(rmsNorm(h, this.w('norm_f'), c.normEps), this.w('head'));
    return { logits, gates: gates.length ? (tf.stack(gates, 1) as tf.Tensor2D) : null };
  }

  /** Copies the weights to the host (canonical order). */
  toHost(): HostWeights {
    const out: HostWeights = {};
    for (const s of this.specs) {
      out[s.name] = { shape: s.shape, data: this.w(s.name).dataSync() as Float32Array };
    }
    return out;
  }

  /** Overwrites all weights from host copies (shapes must match). */
  load(host: HostWeights): void {
    for (const s of this.specs) {
      const hw = host[s.name];
      if (!hw || hw.shape.join(',') !== s.shape.join(','))
        throw new Error(`GPT.load: bad or missing ${s.name}`);
      tf.tidy(() => this.weights.get(s.name)!.assign(tf.tensor(hw.data, s.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose(); // includes the fusions' variables
    this.cos.dispose();
    this.sin.dispose();
    this.mask.dispose();
  }
}

/** float32 one-hot [n, V] (the tensor package registers a wasm OneHot that honours the dtype). */
function oneHotF32(targets: Int32Array, V: number): tf.Tensor2D {
  return tf.oneHot(tf.tensor1d(targets, 'int32'), V, 1, 0, 'float32') as tf.Tensor2D;
}

/**
 * Mean cross-entropy (nats) of logits [n, V] against integer targets [n]. Custom gradient
 * softmax − onehot, so no dense gather gradient is built.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const n = targets.length;
  const V = logits.shape[1];
  const body = (x: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const logp = tf.logSoftmax(x);
    const oh = oneHotF32(targets, V);
    save([logp, oh]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(logp, oh))), n),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.mul(tf.sub(tf.exp(saved[0]!), saved[1]!), tf.div(dy, n)),
    };
  };
  return tf.customGrad(body as unknown as CustomGradFunc)(logits) as tf.Scalar;
}

/** Summed NLL (nats) of logits [n, V] at integer targets [n], read back to the host (no gradient). */
export function nllSum(logits: tf.Tensor2D, targets: Int32Array): number {
  return tf.tidy(() => {
    const oh = oneHotF32(targets, logits.shape[1]);
    return -(tf.sum(tf.mul(tf.logSoftmax(logits), oh)).dataSync()[0] ?? Number.NaN);
  });
}
