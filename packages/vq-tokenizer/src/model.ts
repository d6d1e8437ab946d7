// Convolutional VQ-VAE (VQGAN / LlamaGen family) on tfjs, NHWC inside, NCHW at the API.
//
// The network is described once as a list of layers (`encoderPlan` / `decoderPlan`); the tfjs forward
// pass and the ONNX exporter both walk that list, so the two cannot drift apart.
//
// Output range: the decoder's last conv is linear during training (tanh would have to saturate to
// reach the -1 background of MNIST-like data); `decode` and the exported decoder clamp to [-1, 1].
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import type { ArchConfig } from './config.js';
import { conv2d } from './conv.js';

type T4 = tf.Tensor4D;

export const GROUPNORM_EPS = 1e-6;
export const L2NORM_EPS = 1e-12;

export type Layer =
  | { kind: 'conv'; name: string; cin: number; cout: number; k: number; stride: 1 | 2 }
  | { kind: 'res'; name: string; cin: number; cout: number }
  | { kind: 'normAct'; name: string; c: number }
  | { kind: 'up' };

export function encoderPlan(a: ArchConfig): Layer[] {
  const ch = (i: number) => a.baseChannels * a.channelMult[i]!;
  const last = a.channelMult.length - 1;
  const plan: Layer[] = [
    { kind: 'conv', name: 'enc.conv_in', cin: a.channels, cout: ch(0), k: 3, stride: 1 },
  ];
  let c = ch(0);
  for (let i = 0; i <= last; i++) {
    for (let r = 0; r < a.numRes; r++) {
      plan.push({ kind: 'res', name: `enc.down${i}.res${r}`, cin: c, cout: ch(i) });
      c = ch(i);
    }
    if (i < last) plan.push({ kind: 'conv', name: `enc.down${i}.ds`, cin: c, cout: c, k: 3, stride: 2 });
  }
  plan.push({ kind: 'res', name: 'enc.mid', cin: c, cout: c });
  plan.push({ kind: 'normAct', name: 'enc.norm_out', c });
  plan.push({ kind: 'conv', name: 'enc.conv_out', cin: c, cout: a.codeDim, k: 3, stride: 1 });
  return plan;
}

export function decoderPlan(a: ArchConfig): Layer[] {
  const ch = (i: number) => a.baseChannels * a.channelMult[i]!;
  const last = a.channelMult.length - 1;
  let c = ch(last);
  const plan: Layer[] = [
    { kind: 'conv', name: 'dec.conv_in', cin: a.codeDim, cout: c, k: 3, stride: 1 },
    { kind: 'res', name: 'dec.mid', cin: c, cout: c },
  ];
  for (let i = last; i >= 0; i--) {
    for (let r = 0; r < a.numRes; r++) {
      plan.push({ kind: 'res', name: `dec.up${i}.res${r}`, cin: c, cout: ch(i) });
      c = ch(i);
    }
    if (i > 0) {
      // The conv after the nearest upsample already maps to the next level's (smaller) width, which
      // halves the cost of the most expensive layer of the decoder at no measurable quality loss.
      plan.push({ kind: 'up' });
      plan.push({ kind: 'conv', name: `dec.up${i}.us`, cin: c, cout: ch(i - 1), k: 3, stride: 1 });
      c = ch(i - 1);
    }
  }
  plan.push({ kind: 'normAct', name: 'dec.norm_out', c });
  plan.push({ kind: 'conv', name: 'dec.conv_out', cin: c, cout: a.channels, k: 3, stride: 1 });
  return plan;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  /** 'fanIn' normal(0, 1/sqrt(fan_in)), 'zeros', 'ones' or 'normal' N(0,1). */
  init: 'fanIn' | 'zeros' | 'ones' | 'normal';
  /** Norm scales/shifts, biases and the codebook are not weight-decayed. */
  decay: boolean;
}

function convSpecs(name: string, cin: number, cout: number, k: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [k, k, cin, cout], init: 'fanIn', decay: true }, // [k,k,Ci,Co]
    { name: `${name}.bias`, shape: [cout], init: 'zeros', decay: false },
  ];
}

function normSpecs(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [c], init: 'ones', decay: false },
    { name: `${name}.beta`, shape: [c], init: 'zeros', decay: false },
  ];
}

function layerSpecs(l: Layer): ParamSpec[] {
  switch (l.kind) {
    case 'conv':
      return convSpecs(l.name, l.cin, l.cout, l.k);
    case 'normAct':
      return normSpecs(l.name, l.c);
    case 'up':
      return [];
    case 'res':
      return [
        ...normSpecs(`${l.name}.norm1`, l.cin),
        ...convSpecs(`${l.name}.conv1`, l.cin, l.cout, 3),
        ...normSpecs(`${l.name}.norm2`, l.cout),
        ...convSpecs(`${l.name}.conv2`, l.cout, l.cout, 3),
        ...(l.cin === l.cout ? [] : convSpecs(`${l.name}.skip`, l.cin, l.cout, 1)),
      ];
  }
}

/** Every parameter of the model, in a fixed order (checkpoint and optimiser order). */
export function paramSpecs(a: ArchConfig): ParamSpec[] {
  return [
    ...encoderPlan(a).flatMap(layerSpecs),
    { name: 'quant.codebook', shape: [a.codebookSize, a.codeDim], init: 'normal', decay: false }, // [K,d]
    ...decoderPlan(a).flatMap(layerSpecs),
  ];
}

/** Seeded initial values for every parameter (plain arrays, so init needs no backend). */
export function initParams(a: ArchConfig, seed: number | string): Map<string, Float32Array> {
  const rng = new Rng(seed).split('init');
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(a)) {
    const n = s.shape.reduce((x, y) => x * y, 1);
    const v = new Float32Array(n);
    if (s.init === 'ones') v.fill(1);
    else if (s.init === 'normal') rng.split(s.name).fillNormal(v, 0, 1);
    else if (s.init === 'fanIn') {
      const fanIn = s.shape.slice(0, -1).reduce((x, y) => x * y, 1);
      rng.split(s.name).fillNormal(v, 0, 1 / Math.sqrt(fanIn));
    }
    out.set(s.name, v);
  }
  return out;
}

function silu(x: T4): T4 {
  return tf.mul(x, tf.sigmoid(x));
}

/** GroupNorm over x [B,H,W,C] with `groups` groups (statistics over H, W and the group's channels). */
export function groupNorm(x: T4, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number): T4 {
  const [b, h, w, c] = x.shape;
  const g = tf.reshape(x, [b, h * w, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 3], true);
  const normed = tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, GROUPNORM_EPS)));
  return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), gamma), beta);
}

/** x [N, d] scaled to unit L2 norm per row. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), L2NORM_EPS)));
}

/** Identity forward, zero gradient (tfjs has no stop_gradient op). */
const stopGradient = tf.customGrad((x, _save) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy) => tf.zerosLike(dy as tf.Tensor),
})) as unknown as <R extends tf.Tensor>(x: R) => R;

export interface QuantizeResult {
  zq: T4; // [B,h,w,d] straight-through quantised latents (unit norm)
  codes: tf.Tensor1D; // [B*h*w] int32
  zNorm: tf.Tensor2D; // [B*h*w, d] normalised encoder outputs (restart candidates)
  codebookLoss: tf.Scalar;
  commitLoss: tf.Scalar;
}

export class VQModel {
  readonly arch: ArchConfig;
  readonly params: Map<string, tf.Variable>;
  private readonly enc: Layer[];
  private readonly dec: Layer[];

  constructor(arch: ArchConfig, values: Map<string, Float32Array>) {
    this.arch = arch;
    this.enc = encoderPlan(arch);
    this.dec = decoderPlan(arch);
    this.params = new Map();
    for (const s of paramSpecs(arch)) {
      const v = values.get(s.name);
      if (!v) throw new Error(`VQModel: missing parameter '${s.name}'`);
      const n = s.shape.reduce((x, y) => x * y, 1);
      if (v.length !== n)
        throw new Error(`VQModel: parameter '${s.name}' has ${v.length} values, expected ${n}`);
      this.params.set(s.name, tf.variable(tf.tensor(v, s.shape), true));
    }
  }

  static init(arch: ArchConfig, seed: number | string): VQModel {
    return new VQModel(arch, initParams(arch, seed));
  }

  /** Grid size of the codes for an H×W image. */
  gridSize(height: number, width: number): { h: number; w: number } {
    const f = this.arch.downsample;
    if (height % f !== 0 || width % f !== 0) {
      throw new Error(`image size ${height}×${width} is not divisible by the downsample factor ${f}`);
    }
    return { h: height / f, w: width / f };
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`VQModel: no parameter '${name}'`);
    return v;
  }

  private conv(x: T4, name: string, stride: 1 | 2): T4 {
    return conv2d(
      x,
      this.p(`${name}.weight`) as tf.Tensor as T4,
      this.p(`${name}.bias`) as tf.Tensor as tf.Tensor1D,
      stride,
    );
  }

  private norm(x: T4, name: string): T4 {
    return groupNorm(
      x,
      this.p(`${name}.gamma`) as tf.Tensor as tf.Tensor1D,
      this.p(`${name}.beta`) as tf.Tensor as tf.Tensor1D,
      this.arch.normGroups,
    );
  }

  private run(plan: Layer[], x: T4): T4 {
    for (const l of plan) {
      if (l.kind === 'conv') x = this.conv(x, l.name, l.stride);
      else if (l.kind === 'normAct') x = silu(this.norm(x, l.name));
      else if (l.kind === 'up') {
        const [, h, w] = x.shape;
        x = tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]);
      } else {
        let y = this.conv(silu(this.norm(x, `${l.name}.norm1`)), `${l.name}.conv1`, 1);
        y = this.conv(silu(this.norm(y, `${l.name}.norm2`)), `${l.name}.conv2`, 1);
        const skip = l.cin === l.cout ? x : this.conv(x, `${l.name}.skip`, 1);
        x = tf.add(skip, y);
      }
    }
    return x;
  }

  /** x [B,H,W,C] in [-1,1] → encoder outputs z_e [B,h,w,d] (before normalisation). */
  encodeLatent(x: T4): T4 {
    return this.run(this.enc, x);
  }

  /** Quantised latents [B,h,w,d] → reconstruction [B,H,W,C] (linear, not clamped). */
  decodeLatent(zq: T4): T4 {
    return this.run(this.dec, zq);
  }

  /** The codebook rows normalised to unit length [K, d]: the vectors the decoder actually sees. */
  normalizedCodebook(): tf.Tensor2D {
    return l2Normalize(this.p('quant.codebook') as tf.Tensor as tf.Tensor2D);
  }

  /** Nearest code by cosine similarity, straight-through estimator, codebook + commitment losses. */
  quantize(ze: T4): QuantizeResult {
    const [b, h, w, d] = ze.shape;
    const z = l2Normalize(tf.reshape(ze, [b * h * w, d]));
    const e = this.normalizedCodebook();
    const sim = tf.matMul(z, e, false, true); // [N, K]
    const codes = tf.argMax(sim, 1) as tf.Tensor1D;
    // One-hot matmul instead of gather: its gradient is a matmul, while gather's needs
    // UnsortedSegmentSum (dense over the codebook anyway).
    const oneHot = tf.oneHot(codes, this.arch.codebookSize, 1, 0, 'float32');
    const zqFlat = tf.matMul(oneHot, e); // [N, d]
    const codebookLoss = tf.mean(tf.square(tf.sub(stopGradient(z), zqFlat)));
    const commitLoss = tf.mean(tf.square(tf.sub(z, stopGradient(zqFlat))));
    const st = tf.add(z, stopGradient(tf.sub(zqFlat, z)));
    return {
      zq: tf.reshape(st, [b, h, w, d]),
      codes,
      zNorm: z,
      codebookLoss: codebookLoss as tf.Scalar,
      commitLoss: commitLoss as tf.Scalar,
    };
  }

  /** Unit-norm code vectors of codes [B*h*w] laid out as [B,h,w,d]. */
  lookup(codes: Int32Array, b: number, h: number, w: number): T4 {
    return tf.tidy(() => {
      const idx = tf.tensor1d(codes, 'int32');
      return tf.reshape(tf.gather(this.normalizedCodebook(), idx), [b, h, w, this.arch.codeDim]);
    });
  }

  /**
   * images [B,C,H,W] in [-1,1] → codes [B,h,w] (row-major). Runs in chunks of `batchSize` images.
   */
  encode(images: Float32Array, n: number, height: number, width: number, batchSize = 64): Int32Array {
    const c = this.arch.channels;
    const { h, w } = this.gridSize(height, width);
    const per = c * height * width;
    if (images.length !== n * per)
      throw new Error(`encode: images has ${images.length} values, expected ${n * per}`);
    const out = new Int32Array(n * h * w);
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const codes = tf.tidy(() => {
        const x = tf.transpose(
          tf.tensor4d(images.subarray(s * per, (s + b) * per), [b, c, height, width]),
          [0, 2, 3, 1],
        );
        return this.quantize(this.encodeLatent(x as T4)).codes;
      });
      out.set(codes.dataSync() as Int32Array, s * h * w);
      codes.dispose();
    }
    return out;
  }

  /** codes [B,h,w] → images [B,C,H,W] clamped to [-1,1]. Runs in chunks of `batchSize` grids. */
  decode(codes: Int32Array, n: number, h: number, w: number, batchSize = 64): Float32Array {
    const c = this.arch.channels;
    const f = this.arch.downsample;
    const per = c * h * f * w * f;
    if (codes.length !== n * h * w)
      throw new Error(`decode: codes has ${codes.length} values, expected ${n * h * w}`);
    const k = this.arch.codebookSize;
    for (let i = 0; i < codes.length; i++) {
      const v = codes[i]!;
      if (!(v >= 0 && v < k)) throw new Error(`decode: codes[${i}] = ${v} outside [0, ${k})`);
    }
    const out = new Float32Array(n * per);
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const img = tf.tidy(() => {
        const zq = this.lookup(codes.subarray(s * h * w, (s + b) * h * w), b, h, w);
        return tf.transpose(tf.clipByValue(this.decodeLatent(zq), -1, 1), [0, 3, 1, 2]);
      });
      out.set(img.dataSync() as Float32Array, s * per);
      img.dispose();
    }
    return out;
  }

  /** Current parameter values as plain arrays (copies). */
  values(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [k, v] of this.params) out.set(k, v.dataSync().slice() as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
