// Incremental Engram inference state (pure TS; used by the sampler and probes next to the KV cache).
//
// Keys: the rows of step p depend only on codes < p, so a sampler keeps each sample's code grid and asks
// for the next step's rows on the host (EngramGenState.nextRows → rowsForNextBatch); the ids then go into the
// ONNX step graph as `engram_rows [B, 1, Le, S·K]`.
//
// Conv (if enabled): the layer's causal depthwise conv at step t reads its inputs x[t − s] for the shifts
// s = (kernel−1−i)·dilation, i < kernel, where x = RMSNorm(y)·w_norm is the conv's (normalised) input. So,
// like the KV cache, each Engram layer keeps the last span = (kernel−1)·dilation inputs per sample.
// ConvState stores them in a ring: input x[t] lives in slot t mod span; slots not yet written are zero,
// which is exactly the zero padding before the start of the sequence. For a graph that takes the state as a
// tensor, `window()` returns it in chronological order ([B, span, d], oldest first) and the update is
// "drop the oldest, append x[t]".

import { FUSION_RMS_EPS, type FusionWeights, fusionReference } from './fusion-reference.js';
import { type HashSpec, rowsForNextBatch } from './hash.js';

export class EngramGenState {
  readonly spec: HashSpec;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  /** Codes the hash sees, per sample. [B, H, W] (cells ≥ pos are not read) */
  readonly grids: Int32Array;
  readonly classes: Int32Array | undefined;
  /** Raster index of the code being predicted next. */
  pos = 0;

  constructor(spec: HashSpec, opts: { batch: number; height: number; width: number; classes?: Int32Array }) {
    if (spec.classKeyed && (!opts.classes || opts.classes.length !== opts.batch)) {
      throw new Error(`EngramGenState: classKeyed hash needs classes [${opts.batch}]`);
    }
    this.spec = spec;
    this.batch = opts.batch;
    this.height = opts.height;
    this.width = opts.width;
    this.grids = new Int32Array(opts.batch * opts.height * opts.width);
    this.classes = opts.classes;
  }

  get done(): boolean {
    return this.pos >= this.height * this.width;
  }

  /** Row ids for predicting the code at `pos`. Returns Int32Array [B, Le, S·K]. */
  nextRows(out?: Int32Array): Int32Array {
    if (this.done) throw new Error('EngramGenState: grid is complete');
    return rowsForNextBatch(
      this.spec,
      this.grids,
      [this.batch, this.height, this.width],
      this.pos,
      this.classes,
      out,
    );
  }

  /** Stores the codes chosen at `pos` (codes [B]; for donor probes pass the donor's codes) and advances. */
  push(codes: Int32Array): void {
    if (codes.length !== this.batch)
      throw new Error(`EngramGenState.push: codes has ${codes.length} entries, batch is ${this.batch}`);
    if (this.done) throw new Error('EngramGenState: grid is complete');
    const HW = this.height * this.width;
    for (let b = 0; b < this.batch; b++) this.grids[b * HW + this.pos] = codes[b]!;
    this.pos++;
  }
}

/** Ring-buffer conv state of every Engram layer: [Le, B, span, d] floats, one time counter per layer. */
export class ConvState {
  readonly layers: number;
  readonly batch: number;
  readonly d: number;
  readonly kernel: number;
  readonly dilation: number;
  readonly span: number;
  readonly buf: Float64Array;
  private readonly t: Int32Array;

  constructor(opts: { layers: number; batch: number; d: number; kernel: number; dilation: number }) {
    this.layers = opts.layers;
    this.batch = opts.batch;
    this.d = opts.d;
    this.kernel = opts.kernel;
    this.dilation = opts.dilation;
    this.span = (opts.kernel - 1) * opts.dilation;
    this.buf = new Float64Array(opts.layers * opts.batch * this.span * opts.d);
    this.t = new Int32Array(opts.layers);
  }

  /**
   * Conv output at the layer's current step for inputs x [B, d] (weight [kernel, d]); then x enters the state
   * and the layer's clock advances. Returns c [B, d] (before SiLU).
   */
  step(layer: number, x: ArrayLike<number>, weight: ArrayLike<number>, out?: Float64Array): Float64Array {
    const { batch: B, d, kernel, dilation, span } = this;
    const c = out ?? new Float64Array(B * d);
    const t = this.t[layer]!;
    for (let b = 0; b < B; b++) {
      const base = (layer * B + b) * span;
      for (let j = 0; j < d; j++) {
        let acc = weight[(kernel - 1) * d + j]! * x[b * d + j]!;
        for (let i = 0; i < kernel - 1; i++) {
          const slot = (((t - (kernel - 1 - i) * dilation) % span) + span) % span;
          acc += weight[i * d + j]! * this.buf[(base + slot) * d + j]!;
        }
        c[b * d + j] = acc;
      }
      if (span > 0) {
        const slot = t % span;
        for (let j = 0; j < d; j++) this.buf[(base + slot) * d + j] = x[b * d + j]!;
      }
    }
    this.t[layer] = t + 1;
    return c;
  }

  /** The layer's state in chronological order (oldest first): Float32Array [B, span, d]. */
  window(layer: number): Float32Array {
    const { batch: B, d, span } = this;
    const out = new Float32Array(B * span * d);
    const t = this.t[layer]!;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < span; k++) {
        const slot = (t + k) % span;
        out.set(
          this.buf.subarray(((layer * B + b) * span + slot) * d, ((layer * B + b) * span + slot + 1) * d),
          (b * span + k) * d,
        );
      }
    }
    return out;
  }
}

/**
 * One incremental step of the fusion reference for Engram layer `layer`: h [B, d], e [B, inWidth] at the
 * current position. Equals fusionReference over the whole sequence, position by position (tested).
 */
export function fusionReferenceStep(
  w: FusionWeights,
  h: ArrayLike<number>, // [B, d]
  e: ArrayLike<number>, // [B, inWidth]
  opts: { batch: number; d: number; inWidth: number; clamp?: number; eps?: number },
  conv?: { state: ConvState; layer: number },
): { y: Float64Array; gate: Float64Array } {
  const { batch: B, d } = opts;
  const eps = opts.eps ?? FUSION_RMS_EPS;
  const { y, gate } = fusionReference(w, Float64Array.from(h), Float64Array.from(e), {
    batch: B,
    seqLen: 1,
    d,
    inWidth: opts.inWidth,
    clamp: opts.clamp,
    eps,
  });
  if (conv) {
    if (!w.convWeight || !w.convNorm)
      throw new Error('fusionReferenceStep: conv state given but conv weights missing');
    const x = new Float64Array(B * d);
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += y[b * d + j]! * y[b * d + j]!;
      const inv = 1 / Math.sqrt(s / d + eps);
      for (let j = 0; j < d; j++) x[b * d + j] = y[b * d + j]! * inv * w.convNorm[j]!;
    }
    const c = conv.state.step(conv.layer, x, w.convWeight);
    for (let i = 0; i < B * d; i++) y[i]! += c[i]! / (1 + Math.exp(-c[i]!));
  }
  return { y, gate };
}
