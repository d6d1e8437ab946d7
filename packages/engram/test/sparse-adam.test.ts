import { Rng } from '@engram-ar/tensor/rng';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHashSpec } from '../src/hash.js';
import { SparseAdam } from '../src/sparse-adam.js';
import { EngramTable } from '../src/table.js';

const spec = buildHashSpec({ layers: [0], stencils: [['L']], heads: 1, tableRows: 50, dHead: 3, vocab: 4 });
const D = 3;

function randomGrads(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n * D }, () => rng.normal());
}

/** Textbook dense Adam (float64, global step) over a whole [rows, D] array. */
function denseAdam(w: Float64Array, grads: Float64Array[], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  grads.forEach((g, i) => {
    const t = i + 1;
    for (let j = 0; j < w.length; j++) {
      m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
      v[j] = b2 * v[j]! + (1 - b2) * g[j]! * g[j]!;
      w[j]! -= (lr * (m[j]! / (1 - b1 ** t))) / (Math.sqrt(v[j]! / (1 - b2 ** t)) + eps);
    }
  });
}

/** Naive lazy-Adam reference: Map of rows, duplicates summed, per-row step counts. */
function lazyReference(w: Float64Array, batches: { ids: Int32Array; g: Float32Array }[], lr: number) {
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  const t = new Map<number, number>();
  for (const { ids, g } of batches) {
    const sum = new Map<number, number[]>();
    ids.forEach((r, i) => {
      const a = sum.get(r) ?? [0, 0, 0];
      for (let d = 0; d < D; d++) a[d]! += g[i * D + d]!;
      sum.set(r, a);
    });
    for (const [r, gr] of sum) {
      const tr = (t.get(r) ?? 0) + 1;
      t.set(r, tr);
      for (let d = 0; d < D; d++) {
        const j = r * D + d;
        m[j] = 0.9 * m[j]! + 0.1 * gr[d]!;
        v[j] = 0.999 * v[j]! + 0.001 * gr[d]! ** 2;
        w[j]! -= (lr * (m[j]! / (1 - 0.9 ** tr))) / (Math.sqrt(v[j]! / (1 - 0.999 ** tr)) + 1e-8);
      }
    }
  }
}

describe('SparseAdam', () => {
  it('matches dense Adam on the touched rows and leaves untouched rows bit-identical', () => {
    const table = new EngramTable(spec);
    const w0 = table.data.slice();
    const opt = new SparseAdam(table, { lr: 0.01 });
    const rng = new Rng(1);
    const touched = new Int32Array([3, 17, 40]);
    const dense: Float64Array[] = [];
    for (let s = 0; s < 5; s++) {
      const g = randomGrads(rng, touched.length);
      expect(opt.step(touched, g)).toBe(3);
      const full = new Float64Array(table.rows * D);
      touched.forEach((r, i) => {
        for (let d = 0; d < D; d++) full[r * D + d] = g[i * D + d]!;
      });
      dense.push(full);
    }
    const ref = Float64Array.from(w0);
    denseAdam(ref, dense, 0.01);
    for (let r = 0; r < table.rows; r++) {
      for (let d = 0; d < D; d++) {
        if (touched.includes(r)) expect(table.data[r * D + d]).toBeCloseTo(ref[r * D + d]!, 5);
        else expect(table.data[r * D + d]).toBe(w0[r * D + d]);
      }
    }
  });

  it('matches a naive lazy-Adam reference on random batches with duplicates', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 6 }), (seed, steps) => {
        const table = new EngramTable(spec, { init: { kind: 'normal', std: 1, seed } });
        const ref = Float64Array.from(table.data);
        const opt = new SparseAdam(table, { lr: 0.05 });
        const rng = new Rng(seed);
        const batches = Array.from({ length: steps }, () => {
          const n = 1 + rng.int(40);
          const ids = Int32Array.from({ length: n }, () => rng.int(12)); // few rows → many duplicates
          return { ids, g: randomGrads(rng, n) };
        });
        for (const b of batches) opt.step(b.ids, b.g);
        lazyReference(ref, batches, 0.05);
        for (let j = 0; j < ref.length; j++) expect(table.data[j]).toBeCloseTo(ref[j]!, 4);
      }),
      { numRuns: 30 },
    );
  });

  it('sums duplicate rows: [r, r] with g1, g2 equals [r] with g1 + g2', () => {
    const a = new EngramTable(spec);
    const b = new EngramTable(spec);
    const g1 = [0.5, -1, 2];
    const g2 = [0.25, 3, -1];
    new SparseAdam(a, { lr: 0.1 }).step(new Int32Array([7, 7]), Float32Array.from([...g1, ...g2]));
    new SparseAdam(b, { lr: 0.1 }).step(new Int32Array([7]), Float32Array.from(g1.map((x, i) => x + g2[i]!)));
    expect(a.data).toEqual(b.data);
  });

  it('first step moves each coordinate by lr·multiplier·sign(g) (closed form of Adam step 1)', () => {
    const table = new EngramTable(spec);
    const w0 = table.data.slice();
    const opt = new SparseAdam(table, { lr: 0.01, lrMultiplier: 5, eps: 0 });
    opt.step(new Int32Array([2]), Float32Array.from([3, -0.5, 1e-3]));
    const delta = [0, 1, 2].map((d) => table.data[2 * D + d]! - w0[2 * D + d]!);
    expect(delta[0]).toBeCloseTo(-0.05, 6);
    expect(delta[1]).toBeCloseTo(0.05, 6);
    expect(delta[2]).toBeCloseTo(-0.05, 6);
    // Moments after one step: m = (1-β1)·g, v = (1-β2)·g², zero elsewhere; state() → loadState() round-trips.
    const st = opt.state();
    [3, -0.5, 1e-3].forEach((g, d) => {
      expect(st.m[2 * D + d]).toBeCloseTo(0.1 * g, 7);
      expect(st.v[2 * D + d]).toBeCloseTo(0.001 * g * g, 9);
    });
    expect(st.m.reduce((a, x) => a + Math.abs(x), 0)).toBeCloseTo(0.1 * 3.501, 6);
    const other = new SparseAdam(new EngramTable(spec), { lr: 0.01 });
    other.loadState(st);
    expect(other.state()).toEqual(st);
  });

  it('bias correction uses per-row step counts: a row first touched late gets a full first step', () => {
    const table = new EngramTable(spec);
    const opt = new SparseAdam(table, { lr: 0.01, eps: 0 });
    for (let s = 0; s < 10; s++) opt.step(new Int32Array([1]), Float32Array.from([1, 1, 1]));
    const before = table.data[5 * D]!;
    opt.step(new Int32Array([5]), Float32Array.from([2, 2, 2]));
    expect(table.data[5 * D]! - before).toBeCloseTo(-0.01, 6);
    expect(opt.state().t[1]).toBe(10);
    expect(opt.state().t[5]).toBe(1);
  });

  it('resumes exactly from saved state (bit-identical to an uninterrupted run)', () => {
    const rng = new Rng(9);
    const batches = Array.from({ length: 6 }, () => {
      const ids = Int32Array.from({ length: 20 }, () => rng.int(spec.totalRows));
      return { ids, g: randomGrads(rng, 20) };
    });
    const full = new EngramTable(spec);
    const optFull = new SparseAdam(full, { lr: 0.02, lrMultiplier: 5 });
    for (const b of batches) optFull.step(b.ids, b.g);

    const part = new EngramTable(spec);
    const optPart = new SparseAdam(part, { lr: 0.02, lrMultiplier: 5 });
    for (const b of batches.slice(0, 3)) optPart.step(b.ids, b.g);
    const tensors = { ...part.toTensors(), ...optPart.toTensors() };
    const copies = Object.fromEntries(
      Object.entries(tensors).map(([k, t]) => [k, { ...t, data: t.data.slice() }]),
    );
    const resumed = new EngramTable(spec, { data: new Float32Array(part.data.length) });
    resumed.loadTensors(copies);
    const optResumed = new SparseAdam(resumed, { lr: 0.02, lrMultiplier: 5 });
    optResumed.loadTensors(copies);
    for (const b of batches.slice(3)) optResumed.step(b.ids, b.g);
    expect(resumed.data).toEqual(full.data);
    expect(optResumed.state().m).toEqual(optFull.state().m);
  });

  it('accumulates across calls with scales, rescales the pending gradient, then applies once', () => {
    const a = new EngramTable(spec);
    const b = new EngramTable(spec);
    const oa = new SparseAdam(a, { lr: 0.1 });
    oa.accumulate(new Int32Array([4, 9]), Float32Array.from([2, 4, 6, 8, 10, 12]), 0.5);
    oa.accumulate(new Int32Array([9]), Float32Array.from([2, 2, 2]), 0.5);
    oa.scalePending(0.5);
    expect(oa.pending).toBe(2);
    expect(oa.pendingNormSq()).toBeCloseTo(0.25 * (1 + 4 + 9 + 25 + 36 + 49), 10);
    expect(oa.apply()).toBe(2);
    expect(oa.pending).toBe(0);
    new SparseAdam(b, { lr: 0.1 }).step(
      new Int32Array([4, 9]),
      Float32Array.from([0.5, 1, 1.5, 2.5, 3, 3.5]),
    );
    expect(a.data).toEqual(b.data);
  });

  it('grows its accumulator past the initial capacity without losing rows', () => {
    const big = buildHashSpec({
      layers: [0],
      stencils: [['L']],
      heads: 1,
      tableRows: 5000,
      dHead: 1,
      vocab: 4,
    });
    const t = new EngramTable(big);
    const w0 = t.data.slice();
    const opt = new SparseAdam(t, { lr: 0.1, eps: 0 });
    const ids = Int32Array.from({ length: 4000 }, (_, i) => i);
    expect(opt.step(ids, new Float32Array(4000).fill(1))).toBe(4000);
    for (let i = 0; i < 4000; i++) expect(t.data[i]! - w0[i]!).toBeCloseTo(-0.1, 5);
    expect(t.data[4500]).toBe(w0[4500]);
  });

  it('never updates a frozen table', () => {
    const t = new EngramTable(spec, { init: { kind: 'frozen' } });
    const w0 = t.data.slice();
    const opt = new SparseAdam(t, { lr: 1 });
    expect(opt.step(new Int32Array([1, 2]), new Float32Array(6).fill(1))).toBe(0);
    expect(t.data).toEqual(w0);
  });
});
