import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import { type FusionWeights, fusionReference } from '../src/fusion-reference.js';
import { buildHashSpec, rowsForGrids } from '../src/hash.js';
import { ConvState, EngramGenState, fusionReferenceStep } from '../src/state.js';

const normal = (rng: Rng, n: number, mean = 0, std = 1) => rng.fillNormal(new Float32Array(n), mean, std);

describe('EngramGenState', () => {
  it('yields, step by step, the rows teacher forcing computes on the finished grids', () => {
    const spec = buildHashSpec({ layers: [1, 2], tableRows: 300, dHead: 2, vocab: 20, classKeyed: true });
    const [B, H, W] = [3, 4, 5];
    const rng = new Rng(1);
    const codes = Int32Array.from({ length: B * H * W }, () => rng.int(20));
    const classes = new Int32Array([0, 4, 10]);
    const all = rowsForGrids(spec, codes, [B, H, W], classes);
    const st = new EngramGenState(spec, { batch: B, height: H, width: W, classes });
    const R = spec.rowsPerPosition;
    const out = new Int32Array(B * R);
    for (let p = 0; p < H * W; p++) {
      st.nextRows(out);
      for (let b = 0; b < B; b++) {
        expect(Array.from(out.subarray(b * R, (b + 1) * R))).toEqual(
          Array.from(all.subarray((b * H * W + p) * R, (b * H * W + p + 1) * R)),
        );
      }
      st.push(Int32Array.from({ length: B }, (_, b) => codes[b * H * W + p]!));
    }
    expect(st.done).toBe(true);
    expect(st.grids).toEqual(codes);
    expect(() => st.nextRows()).toThrow(/complete/);
  });
});

describe('ConvState + fusionReferenceStep', () => {
  for (const [kernel, dilation] of [
    [4, 1],
    [3, 2],
    [2, 3],
  ] as const) {
    it(`reproduces the full-sequence fusion step by step (kernel ${kernel}, dilation ${dilation})`, () => {
      const [B, T, d, I] = [2, 9, 4, 6];
      const rng = new Rng(kernel * 10 + dilation);
      const w: FusionWeights = {
        wK: normal(rng, I * d),
        wV: normal(rng, I * d),
        normH: normal(rng, d, 1, 0.2),
        normK: normal(rng, d, 1, 0.2),
        convWeight: normal(rng, kernel * d),
        convNorm: normal(rng, d, 1, 0.2),
      };
      const h = normal(rng, B * T * d);
      const e = normal(rng, B * T * I);
      const full = fusionReference(w, h, e, {
        batch: B,
        seqLen: T,
        d,
        inWidth: I,
        conv: { kernel, dilation },
      });
      // Two Engram layers share the state object; layer 1 is fed the same inputs to check per-layer clocks.
      const state = new ConvState({ layers: 2, batch: B, d, kernel, dilation });
      for (let t = 0; t < T; t++) {
        const ht = new Float32Array(B * d);
        const et = new Float32Array(B * I);
        for (let b = 0; b < B; b++) {
          ht.set(h.subarray((b * T + t) * d, (b * T + t + 1) * d), b * d);
          et.set(e.subarray((b * T + t) * I, (b * T + t + 1) * I), b * I);
        }
        for (const layer of [0, 1]) {
          const step = fusionReferenceStep(w, ht, et, { batch: B, d, inWidth: I }, { state, layer });
          for (let b = 0; b < B; b++) {
            for (let j = 0; j < d; j++)
              expect(step.y[b * d + j]).toBeCloseTo(full.y[(b * T + t) * d + j]!, 10);
            expect(step.gate[b]).toBeCloseTo(full.gate[b * T + t]!, 12);
          }
        }
      }
      expect(state.window(0)).toEqual(state.window(1));
      expect(state.window(0).length).toBe(B * (kernel - 1) * dilation * d);
    });
  }

  it('window() lists the last span inputs oldest first', () => {
    const state = new ConvState({ layers: 1, batch: 1, d: 1, kernel: 3, dilation: 1 });
    const wt = new Float32Array([0, 0, 1]);
    for (let t = 1; t <= 5; t++) state.step(0, [t], wt);
    expect(Array.from(state.window(0))).toEqual([4, 5]);
  });
});
