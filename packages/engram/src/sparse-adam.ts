// Row-wise lazy Adam for the host table: a step touches only the rows present in the batch.
//
// - Duplicates: the same row can appear many times in a batch (many positions share a key, and every
//   position of a batch is gathered); their gradients are summed before the update, exactly as a dense
//   gather's gradient would sum them. Dedupe uses an open-addressing hash map sized to the batch, cleared by
//   walking the touched slots, so a step does O(batch) work and never O(table).
// - Bias correction: each row keeps its own step count t_r (incremented when the row is touched) and uses
//   m̂ = m/(1-β1^t_r), v̂ = v/(1-β2^t_r). A row first touched late starts with a properly corrected
//   update instead of the tiny one a global step count would give (m, v are still zero for it). Rows are
//   not decayed while untouched ("lazy"), so for a row touched in every step this is exactly dense Adam.
// - Effective learning rate = lr · lrMultiplier (DeepSeek's Engram used 5× the backbone's lr).
// - Accumulation is in float64 in the order rows first appear, so results are deterministic and a resumed
//   run (state() → loadState()) continues bit-identically.
import type { NamedTensor } from '@engram-ar/tensor/safetensors';
import { type EngramTable, FLOATS_PER_LINE, PREFETCH_GROUP, touchSink } from './table.js';

export interface SparseAdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  lrMultiplier?: number;
}

export interface SparseAdamState {
  /** Per-row step counts. [rows] */
  t: Int32Array;
  /** First and second moments. [rows, dHead] */
  m: Float32Array;
  v: Float32Array;
}

export const ADAM_TENSORS = { mv: 'engram.adam.mv', t: 'engram.adam.t' } as const;

export class SparseAdam {
  readonly table: EngramTable;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly lrMultiplier: number;
  private readonly t: Int32Array;
  /** m and v of a row side by side, [rows, 2, dHead]: one page (and adjacent lines) per row instead of two. */
  private readonly mv: Float32Array;
  // Batch accumulator: map row id → slot (keys -1 = empty), slot → row id, slot gradients [slots, dHead].
  private keys = new Int32Array(0);
  private vals = new Int32Array(0);
  private uniq = new Int32Array(0);
  private acc = new Float64Array(0);
  private count = 0;

  constructor(table: EngramTable, opts: SparseAdamOptions) {
    this.table = table;
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.lrMultiplier = opts.lrMultiplier ?? 1;
    // A frozen table is never updated, so it needs no optimiser state.
    const n = table.frozen ? 0 : table.rows;
    this.t = new Int32Array(n);
    this.mv = new Float32Array(n * 2 * table.dHead);
    // Touch every page now: fresh zeroed buffers are mapped lazily, and the page faults would otherwise land in
    // the first steps that reach each page, making early steps of a big table look table-size dependent.
    this.t.fill(0);
    this.mv.fill(0);
    this.grow(1024);
  }

  /** Rows currently accumulated (distinct). */
  get pending(): number {
    return this.count;
  }

  private grow(slots: number): void {
    const cap = 1 << Math.ceil(Math.log2(Math.max(16, slots * 2)));
    const oldUniq = this.uniq.subarray(0, this.count);
    const oldAcc = this.acc;
    this.keys = new Int32Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.uniq = new Int32Array(cap >> 1);
    this.acc = new Float64Array((cap >> 1) * this.table.dHead);
    this.acc.set(oldAcc.subarray(0, this.count * this.table.dHead));
    const mask = cap - 1;
    for (let i = 0; i < oldUniq.length; i++) {
      const r = oldUniq[i]!;
      let h = Math.imul(r, 0x9e3779b1) & mask;
      while (this.keys[h] !== -1) h = (h + 1) & mask;
      this.keys[h] = r;
      this.vals[h] = i;
      this.uniq[i] = r;
    }
  }

  /**
   * Adds scale · grads to the pending gradient of each row (duplicates sum).
   * rowIds: Int32Array [n]; grads: Float32Array [n, dHead] (d loss / d gathered rows).
   */
  accumulate(rowIds: Int32Array, grads: Float32Array, scale = 1): void {
    const D = this.table.dHead;
    const n = rowIds.length;
    if (grads.length !== n * D)
      throw new Error(`SparseAdam.accumulate: grads has ${grads.length} floats, needs ${n * D}`);
    if (this.table.frozen) return;
    const rows = this.table.rows;
    // Worst case every id is new: size the map once so the hot loop below works on locals only.
    if (this.count + n > this.uniq.length) this.grow(this.count + n);
    const { keys, vals, uniq, acc } = this;
    const mask = keys.length - 1;
    let count = this.count;
    for (let i = 0; i < n; i++) {
      const r = rowIds[i]!;
      if (!(r >= 0 && r < rows)) {
        this.count = count;
        throw new RangeError(`SparseAdam.accumulate: row id ${r} outside [0, ${rows})`);
      }
      let h = Math.imul(r, 0x9e3779b1) & mask;
      let slot = -1;
      for (;;) {
        const k = keys[h]!;
        if (k === r) {
          slot = vals[h]!;
          break;
        }
        if (k === -1) {
          slot = count++;
          keys[h] = r;
          vals[h] = slot;
          uniq[slot] = r;
          acc.fill(0, slot * D, slot * D + D);
          break;
        }
        h = (h + 1) & mask;
      }
      const a = slot * D;
      const g = i * D;
      for (let d = 0; d < D; d++) acc[a + d]! += scale * grads[g + d]!;
    }
    this.count = count;
  }

  /** Sum of squares of the pending (deduplicated) gradient, e.g. for global-norm clipping. */
  pendingNormSq(): number {
    let s = 0;
    const end = this.count * this.table.dHead;
    for (let i = 0; i < end; i++) s += this.acc[i]! * this.acc[i]!;
    return s;
  }

  /** Multiplies the pending gradient by `factor` (e.g. the global-norm clip scale known only after backward). */
  scalePending(factor: number): void {
    const end = this.count * this.table.dHead;
    for (let i = 0; i < end; i++) this.acc[i]! *= factor;
  }

  /** Applies the pending gradient to the touched rows and clears it; returns the number of rows updated. */
  apply(lr = this.lr): number {
    const D = this.table.dHead;
    const touched = this.count;
    const { beta1: b1, beta2: b2, eps, keys, uniq, acc, mv, t: steps } = this;
    const step = lr * this.lrMultiplier;
    const w = this.table.data;
    const mask = keys.length - 1;
    let sink = 0;
    for (let i = 0; i < touched; i++) {
      if (i % PREFETCH_GROUP === 0) {
        // Touch the next group's rows of t, m, v and the table first (independent loads overlap; see gatherRows).
        const end = Math.min(touched, i + PREFETCH_GROUP);
        for (let j = i; j < end; j++) {
          const q = uniq[j]!;
          sink += steps[q]!;
          for (let d = 0; d < D; d += FLOATS_PER_LINE)
            sink += mv[2 * q * D + d]! + mv[(2 * q + 1) * D + d]! + w[q * D + d]!;
        }
      }
      const r = uniq[i]!;
      const t = steps[r]! + 1;
      steps[r] = t;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const base = r * D;
      const mb = 2 * base;
      const a = i * D;
      for (let d = 0; d < D; d++) {
        const g = acc[a + d]!;
        const m = b1 * mv[mb + d]! + (1 - b1) * g;
        const v = b2 * mv[mb + D + d]! + (1 - b2) * g * g;
        mv[mb + d] = m;
        mv[mb + D + d] = v;
        w[base + d]! -= (step * (m / c1)) / (Math.sqrt(v / c2) + eps);
      }
      // Clear this row's map entry (walk its probe chain) so the next batch starts empty in O(touched).
      let h = Math.imul(r, 0x9e3779b1) & mask;
      while (keys[h] !== r) h = (h + 1) & mask;
      keys[h] = -1;
    }
    // Removing keys mid-chain would break lookups, but all keys of this batch are removed, so the map is empty.
    this.count = 0;
    touchSink(sink);
    return touched;
  }

  /** accumulate + apply. */
  step(rowIds: Int32Array, grads: Float32Array, lr = this.lr): number {
    this.accumulate(rowIds, grads);
    return this.apply(lr);
  }

  /** Copies of the optimiser state (exact resume), m and v as separate [rows, dHead] arrays. */
  state(): SparseAdamState {
    const D = this.table.dHead;
    const rows = this.t.length;
    const m = new Float32Array(rows * D);
    const v = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) {
      m.set(this.mv.subarray(2 * r * D, (2 * r + 1) * D), r * D);
      v.set(this.mv.subarray((2 * r + 1) * D, (2 * r + 2) * D), r * D);
    }
    return { t: this.t.slice(), m, v };
  }

  loadState(s: SparseAdamState): void {
    const D = this.table.dHead;
    const rows = this.t.length;
    if (s.t.length !== rows || s.m.length !== rows * D || s.v.length !== rows * D) {
      throw new Error(
        `SparseAdam.loadState: state sizes t=${s.t.length}, m=${s.m.length}, v=${s.v.length} do not match the table (rows=${rows}, dHead=${D})`,
      );
    }
    this.t.set(s.t);
    for (let r = 0; r < rows; r++) {
      this.mv.set(s.m.subarray(r * D, (r + 1) * D), 2 * r * D);
      this.mv.set(s.v.subarray(r * D, (r + 1) * D), (2 * r + 1) * D);
    }
  }

  /** Checkpoint tensors (share memory; no copy): engram.adam.mv F32 [rows, 2, dHead] (m then v), engram.adam.t I32 [rows]. */
  toTensors(): Record<string, NamedTensor> {
    const D = this.table.dHead;
    const rows = this.t.length;
    return {
      [ADAM_TENSORS.mv]: { dtype: 'F32', shape: [rows, 2, D], data: this.mv },
      [ADAM_TENSORS.t]: { dtype: 'I32', shape: [rows], data: this.t },
    };
  }

  loadTensors(tensors: Record<string, NamedTensor>): void {
    const D = this.table.dHead;
    const rows = this.t.length;
    const mv = tensors[ADAM_TENSORS.mv];
    const t = tensors[ADAM_TENSORS.t];
    if (mv?.dtype !== 'F32' || mv.data.length !== rows * 2 * D) {
      throw new Error(`SparseAdam: tensor '${ADAM_TENSORS.mv}' missing or not F32 [${rows}, 2, ${D}]`);
    }
    if (t?.dtype !== 'I32' || t.data.length !== rows) {
      throw new Error(`SparseAdam: tensor '${ADAM_TENSORS.t}' missing or not I32 [${rows}]`);
    }
    this.mv.set(mv.data as Float32Array);
    this.t.set(t.data as Int32Array);
  }
}
