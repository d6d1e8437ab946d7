// Engram gated fusion layer in tfjs (subpath '@engram-ar/engram/fusion'; the main entry stays tfjs-free).
// Math: see fusion-reference.ts (the float64 reference of the same layer). Shapes are kept 2D, [B·T, ·],
// and both projections are plain 2D matmuls with weights stored [in, out], because the wasm backend is only
// fast for untransposed 2D matmul. The retrieved rows arrive as an input tensor e gathered on the host, so
// the trainer takes d loss / d e and hands it to SparseAdam.
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import type { EngramConfig } from './config.js';
import { FUSION_RMS_EPS, type FusionWeights, GATE_SQRT_FLOOR } from './fusion-reference.js';

export interface EngramFusionOptions {
  /** Backbone layer index; parameters are named `engram.{layer}.*`. */
  layer: number;
  /** Model width. */
  d: number;
  /** Width of e: S·K·dHead. */
  inWidth: number;
  conv?: { enabled: boolean; kernel: number; dilation: number };
  /** Seeds W_K and W_V (split labels = parameter names). */
  seed?: number | string;
  /** Init std of W_K and W_V (default 0.02 each). */
  initStd?: { wK?: number; wV?: number };
  eps?: number;
}

export interface FusionApplyOptions {
  /** B and T with B·T = rows of h and e (rows ordered (sample, position)); needed by the conv. */
  batch: number;
  seqLen: number;
  /** Gate clamp: α = clamp for every position when clamp ≥ 0; learned gate when negative/absent. */
  clamp?: number;
}

/** Parameter names of one Engram layer (checkpoints and ONNX export look them up by these). */
export function fusionParamNames(layer: number) {
  const p = `engram.${layer}`;
  return {
    wK: `${p}.w_k`,
    wV: `${p}.w_v`,
    normH: `${p}.norm_h`,
    normK: `${p}.norm_k`,
    convWeight: `${p}.conv.weight`,
    convNorm: `${p}.conv.norm`,
  } as const;
}

function rmsNorm<T extends tf.Tensor>(x: T, w: tf.Tensor, eps: number): T {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
}

export class EngramFusion {
  readonly layer: number;
  readonly d: number;
  readonly inWidth: number;
  readonly conv: { kernel: number; dilation: number } | null;
  readonly eps: number;
  /** [inWidth, d] */
  readonly wK: tf.Variable;
  readonly wV: tf.Variable;
  /** [d], init 1 */
  readonly normH: tf.Variable;
  readonly normK: tf.Variable;
  /** [kernel, d], init 0 (so the conv branch starts as an exact no-op); [d] norm init 1. */
  readonly convWeight: tf.Variable | null;
  readonly convNorm: tf.Variable | null;

  constructor(opts: EngramFusionOptions) {
    this.layer = opts.layer;
    this.d = opts.d;
    this.inWidth = opts.inWidth;
    this.eps = opts.eps ?? FUSION_RMS_EPS;
    this.conv = opts.conv?.enabled ? { kernel: opts.conv.kernel, dilation: opts.conv.dilation } : null;
    const names = fusionParamNames(opts.layer);
    const rng = new Rng(opts.seed ?? 0);
    const normal = (name: string, std: number) =>
      tf.variable(
        tf.tensor2d(rng.split(name).fillNormal(new Float32Array(opts.inWidth * opts.d), 0, std), [
          opts.inWidth,
          opts.d,
        ]),
      );
    this.wK = normal(names.wK, opts.initStd?.wK ?? 0.02);
    this.wV = normal(names.wV, opts.initStd?.wV ?? 0.02);
    this.normH = tf.variable(tf.ones([opts.d]));
    this.normK = tf.variable(tf.ones([opts.d]));
    this.convWeight = this.conv ? tf.variable(tf.zeros([this.conv.kernel, opts.d])) : null;
    this.convNorm = this.conv ? tf.variable(tf.ones([opts.d])) : null;
  }

  /** Builds the layer for config layer `layer` (a member of cfg.layers) of a model of width d. */
  static fromConfig(cfg: EngramConfig, layer: number, d: number, seed?: number | string): EngramFusion {
    if (!cfg.layers.includes(layer)) throw new Error(`EngramFusion: layer ${layer} is not in config.layers`);
    return new EngramFusion({
      layer,
      d,
      inWidth: cfg.stencils.length * cfg.heads * cfg.dHead,
      conv: cfg.conv,
      seed: seed ?? cfg.seed,
    });
  }

  /** Trainable parameters by name (`engram.{layer}.w_k`, …). Norm weights are the `.norm_*`/`.conv.norm` ones. */
  variables(): Record<string, tf.Variable> {
    const n = fusionParamNames(this.layer);
    const out: Record<string, tf.Variable> = {
      [n.wK]: this.wK,
      [n.wV]: this.wV,
      [n.normH]: this.normH,
      [n.normK]: this.normK,
    };
    if (this.convWeight && this.convNorm) {
      out[n.convWeight] = this.convWeight;
      out[n.convNorm] = this.convNorm;
    }
    return out;
  }

  /**
   * h: [B·T, d] hidden states entering the layer; e: [B·T, S·K·dHead] gathered table rows.
   * Returns y [B·T, d] (the block adds it: h ← h + y) and the gate α [B·T] actually applied.
   */
  apply(h: tf.Tensor2D, e: tf.Tensor2D, opts: FusionApplyOptions): { y: tf.Tensor2D; gate: tf.Tensor1D } {
    const N = opts.batch * opts.seqLen;
    if (h.shape[0] !== N || h.shape[1] !== this.d)
      throw new Error(`EngramFusion: h is [${h.shape}], expected [${N}, ${this.d}]`);
    if (e.shape[0] !== N || e.shape[1] !== this.inWidth) {
      throw new Error(`EngramFusion: e is [${e.shape}], expected [${N}, ${this.inWidth}]`);
    }
    return tf.tidy(() => {
      const v = tf.matMul(e, this.wV);
      let gate: tf.Tensor1D;
      if (opts.clamp !== undefined && opts.clamp >= 0) {
        gate = tf.fill([N], opts.clamp);
      } else {
        const k = tf.matMul(e, this.wK);
        const hn = rmsNorm(h, this.normH, this.eps);
        const kn = rmsNorm(k, this.normK, this.eps);
        const g = tf.div(tf.sum(tf.mul(hn, kn), -1), Math.sqrt(this.d));
        const signed = tf.mul(tf.sign(g), tf.sqrt(tf.maximum(tf.abs(g), GATE_SQRT_FLOOR)));
        gate = tf.sigmoid(signed) as tf.Tensor1D;
      }
      let y: tf.Tensor2D = tf.mul(v, tf.reshape(gate, [N, 1]));
      if (this.conv && this.convWeight && this.convNorm) {
        const { kernel, dilation } = this.conv;
        const B = opts.batch;
        const T = opts.seqLen;
        const x = tf.reshape(rmsNorm(y, this.convNorm, this.eps), [B, T, this.d]) as tf.Tensor3D;
        let c: tf.Tensor3D | null = null;
        for (let i = 0; i < kernel; i++) {
          const shift = (kernel - 1 - i) * dilation;
          if (shift >= T) continue;
          const shifted =
            shift === 0
              ? x
              : tf.pad(tf.slice(x, [0, 0, 0], [B, T - shift, this.d]), [
                  [0, 0],
                  [shift, 0],
                  [0, 0],
                ]);
          const tap = tf.reshape(tf.slice(this.convWeight, [i, 0], [1, this.d]), [1, 1, this.d]);
          const term = tf.mul(shifted, tap) as tf.Tensor3D;
          c = c ? (tf.add(c, term) as tf.Tensor3D) : term;
        }
        if (c) y = tf.add(y, tf.reshape(tf.mul(c, tf.sigmoid(c)), [N, this.d]));
      }
      return { y, gate };
    });
  }

  /** Float32 copies of the weights in the reference layout (for fusionReference / ONNX export). */
  weights(): FusionWeights {
    const get = (v: tf.Variable) => v.dataSync() as Float32Array;
    const w: FusionWeights = {
      wK: get(this.wK).slice(),
      wV: get(this.wV).slice(),
      normH: get(this.normH).slice(),
      normK: get(this.normK).slice(),
    };
    if (this.convWeight && this.convNorm) {
      w.convWeight = get(this.convWeight).slice();
      w.convNorm = get(this.convNorm).slice();
    }
    return w;
  }

  /** Assigns weights by name (shapes must match), e.g. from a checkpoint. */
  setWeights(named: Record<string, Float32Array>): void {
    for (const [name, v] of Object.entries(this.variables())) {
      const data = named[name];
      if (!data) throw new Error(`EngramFusion.setWeights: '${name}' missing`);
      if (data.length !== v.size)
        throw new Error(`EngramFusion.setWeights: '${name}' has ${data.length} values, needs ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose(): void {
    for (const v of Object.values(this.variables())) v.dispose();
  }
}
