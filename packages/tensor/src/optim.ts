// AdamW (Loshchilov & Hutter: weight decay decoupled from the adaptive update), global-norm clipping and the
// linear-warmup + cosine learning-rate schedule.
//
// Exact resume: the optimiser's whole state is the step count and the float32 moment buffers, exported as
// plain typed arrays. Restoring them (and the parameters) reproduces the uninterrupted run bit for bit on the
// same backend, because every update is a pure function of (step, lr, m, v, param, grad).
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './safetensors.js';

export interface ParamGroup {
  params: tf.Variable[];
  /** Decoupled decay for this group; use 0 for norms, biases and gains. Default: the optimiser's weightDecay. */
  weightDecay?: number;
}

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface AdamWState {
  /** Number of steps taken (bias correction uses step + 1 for the next one). */
  step: number;
  /** Parameter names in optimiser order, for checking that a state fits the parameters it is loaded into. */
  names: string[];
  /** First moments, one per parameter in optimiser order (flattened, float32). */
  m: Float32Array[];
  /** Second moments, same layout. */
  v: Float32Array[];
}

interface Slot {
  param: tf.Variable;
  weightDecay: number;
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private slots: Slot[];
  private byName = new Map<string, Slot>();
  private t = 0;

  /** `params` is either a flat list (all decayed) or parameter groups with their own weightDecay. */
  constructor(params: tf.Variable[] | ParamGroup[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const [k, x] of Object.entries({ lr: this.lr, eps: this.eps, weightDecay: this.weightDecay })) {
      if (!(Number.isFinite(x) && x >= 0))
        throw new Error(`AdamW: ${k} must be a finite number ≥ 0, got ${x}`);
    }
    for (const [k, x] of Object.entries({ beta1: this.beta1, beta2: this.beta2 })) {
      if (!(x >= 0 && x < 1)) throw new Error(`AdamW: ${k} must be in [0, 1), got ${x}`);
    }
    const groups: ParamGroup[] =
      params.length > 0 && params[0] instanceof tf.Variable
        ? [{ params: params as tf.Variable[] }]
        : (params as ParamGroup[]);
    this.slots = [];
    groups.forEach((g, gi) => {
      const wd = g.weightDecay ?? this.weightDecay;
      if (!(Number.isFinite(wd) && wd >= 0))
        throw new Error(`AdamW: groups[${gi}].weightDecay must be ≥ 0, got ${wd}`);
      for (const p of g.params) {
        if (this.byName.has(p.name)) throw new Error(`AdamW: parameter "${p.name}" appears twice`);
        if (p.dtype !== 'float32')
          throw new Error(`AdamW: parameter "${p.name}" must be float32, got ${p.dtype}`);
        const slot: Slot = {
          param: p,
          weightDecay: wd,
          m: tf.variable(tf.zeros(p.shape), false),
          v: tf.variable(tf.zeros(p.shape), false),
        };
        this.slots.push(slot);
        this.byName.set(p.name, slot);
      }
    });
  }

  get step(): number {
    return this.t;
  }

  /**
   * One update from gradients keyed by variable name (as `tf.variableGrads` returns them). Parameters without a
   * gradient are left untouched. Does not dispose `grads`.
   *   p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + eps),  m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
   */
  applyGradients(grads: tf.NamedTensorMap, lr: number = this.lr): void {
    for (const name of Object.keys(grads)) {
      if (!this.byName.has(name)) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
    }
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    tf.tidy(() => {
      const b1 = tf.scalar(this.beta1);
      const b2 = tf.scalar(this.beta2);
      const ob1 = tf.scalar(1 - this.beta1);
      const ob2 = tf.scalar(1 - this.beta2);
      const eps = tf.scalar(this.eps);
      const step = tf.scalar(stepSize);
      const invSqrtBc2 = tf.scalar(1 / sqrtBc2);
      for (const s of this.slots) {
        const g = grads[s.param.name];
        if (g === undefined) continue;
        if (!tf.util.arraysEqual(g.shape, s.param.shape)) {
          throw new Error(
            `AdamW: gradient for "${s.param.name}" has shape [${g.shape}], parameter has [${s.param.shape}]`,
          );
        }
        const m = tf.add(tf.mul(s.m, b1), tf.mul(g, ob1));
        const v = tf.add(tf.mul(s.v, b2), tf.mul(tf.square(g), ob2));
        s.m.assign(m);
        s.v.assign(v);
        const denom = tf.add(tf.mul(tf.sqrt(v), invSqrtBc2), eps);
        let p: tf.Tensor = s.param;
        if (s.weightDecay > 0) p = tf.mul(p, tf.scalar(1 - lr * s.weightDecay));
        s.param.assign(tf.sub(p, tf.mul(step, tf.div(m, denom))));
      }
    });
  }

  state(): AdamWState {
    return {
      step: this.t,
      names: this.slots.map((s) => s.param.name),
      m: this.slots.map((s) => Float32Array.from(s.m.dataSync() as Float32Array)),
      v: this.slots.map((s) => Float32Array.from(s.v.dataSync() as Float32Array)),
    };
  }

  /** Restores a state() taken from an optimiser over parameters of the same shapes, in the same order. */
  loadState(st: AdamWState): void {
    if (!Number.isSafeInteger(st.step) || st.step < 0)
      throw new Error(`AdamW.loadState: step must be ≥ 0, got ${st.step}`);
    if (st.m.length !== this.slots.length || st.v.length !== this.slots.length) {
      throw new Error(
        `AdamW.loadState: state has ${st.m.length}/${st.v.length} moment buffers, optimiser has ${this.slots.length} parameters`,
      );
    }
    this.slots.forEach((s, i) => {
      const where = `AdamW.loadState: parameter ${i} ("${s.param.name}", saved as "${st.names[i]}")`;
      if (st.m[i]!.length !== s.param.size || st.v[i]!.length !== s.param.size) {
        throw new Error(
          `${where}: saved moments have ${st.m[i]!.length} elements, parameter has ${s.param.size}`,
        );
      }
    });
    this.slots.forEach((s, i) => {
      tf.tidy(() => {
        s.m.assign(tf.tensor(st.m[i]!, s.param.shape, 'float32'));
        s.v.assign(tf.tensor(st.v[i]!, s.param.shape, 'float32'));
      });
    });
    this.t = st.step;
  }

  /** The state as safetensors entries (`adamw.m.{i}`, `adamw.v.{i}`) plus the JSON part for a sidecar. */
  static stateToTensors(st: AdamWState): {
    tensors: Record<string, NamedTensor>;
    json: { step: number; names: string[] };
  } {
    const tensors: Record<string, NamedTensor> = {};
    st.m.forEach((m, i) => {
      tensors[`adamw.m.${i}`] = { dtype: 'F32', shape: [m.length], data: m };
      tensors[`adamw.v.${i}`] = { dtype: 'F32', shape: [st.v[i]!.length], data: st.v[i]! };
    });
    return { tensors, json: { step: st.step, names: st.names } };
  }

  static stateFromTensors(
    tensors: Record<string, NamedTensor>,
    json: { step: number; names: string[] },
  ): AdamWState {
    const get = (key: string): Float32Array => {
      const t = tensors[key];
      if (t?.dtype !== 'F32') throw new Error(`AdamW.stateFromTensors: missing F32 tensor "${key}"`);
      return t.data as Float32Array;
    };
    return {
      step: json.step,
      names: json.names,
      m: json.names.map((_, i) => get(`adamw.m.${i}`)),
      v: json.names.map((_, i) => get(`adamw.v.${i}`)),
    };
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}

/**
 * Scales all gradients by min(1, maxNorm / ‖g‖) where ‖g‖ is the L2 norm over every gradient together.
 * Returns new tensors (the inputs are not disposed) and the pre-clip norm, so a caller can skip a step whose
 * norm is not finite.
 */
export function clipByGlobalNorm<T extends tf.NamedTensorMap | tf.Tensor[]>(
  grads: T,
  maxNorm: number,
): { grads: T; norm: number } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const list = Array.isArray(grads) ? grads : Object.values(grads);
  const norm =
    list.length === 0
      ? 0
      : Math.sqrt(tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  const apply = (g: tf.Tensor): tf.Tensor =>
    scale === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, tf.scalar(scale)));
  const out = Array.isArray(grads)
    ? grads.map(apply)
    : Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, apply(g)]));
  return { grads: out as T, norm };
}

export interface LrScheduleOptions {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor reached at totalSteps and kept after it. Default 0. */
  min?: number;
}

/**
 * lr(step) for 0-based steps: linear warmup (peak·(step+1)/warmupSteps, so the last warmup step reaches peak),
 * then cosine from peak to min over the remaining steps, min afterwards.
 */
export function lrSchedule(opts: LrScheduleOptions): (step: number) => number {
  const { peak, warmupSteps, totalSteps } = opts;
  const min = opts.min ?? 0;
  if (!(peak >= 0 && min >= 0 && min <= peak))
    throw new Error(`lrSchedule: need 0 ≤ min ≤ peak, got min ${min}, peak ${peak}`);
  if (
    !(
      Number.isInteger(warmupSteps) &&
      warmupSteps >= 0 &&
      Number.isInteger(totalSteps) &&
      totalSteps >= warmupSteps
    )
  ) {
    throw new Error(
      `lrSchedule: need integers 0 ≤ warmupSteps ≤ totalSteps, got ${warmupSteps}, ${totalSteps}`,
    );
  }
  return (step: number) => {
    if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
    const span = totalSteps - warmupSteps;
    if (span === 0 || step >= totalSteps) return min;
    const progress = (step - warmupSteps) / span;
    return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
