import { initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngramFusion, fusionParamNames } from '../src/fusion.js';
import { type FusionShape, type FusionWeights, fusionReference } from '../src/fusion-reference.js';

// Training runs on wasm by default; the cpu backend is the reference. Both must give the same layer.
const BACKENDS = ['cpu', 'wasm'] as const;

const B = 2;
const T = 5;
const d = 6;
const I = 8;

function randomArray(rng: Rng, n: number, mean = 0, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), mean, std);
}

/** A layer with every weight random (norms around 1, conv non-zero) so no gradient path is trivially zero. */
function randomLayer(seed: number, conv: boolean): EngramFusion {
  const f = new EngramFusion({
    layer: 3,
    d,
    inWidth: I,
    conv: { enabled: conv, kernel: 3, dilation: 2 },
    seed,
  });
  const rng = new Rng(seed).split('weights');
  const n = fusionParamNames(3);
  const w: Record<string, Float32Array> = {
    [n.wK]: randomArray(rng, I * d, 0, 0.5),
    [n.wV]: randomArray(rng, I * d, 0, 0.5),
    [n.normH]: randomArray(rng, d, 1, 0.3),
    [n.normK]: randomArray(rng, d, 1, 0.3),
  };
  if (conv) {
    w[n.convWeight] = randomArray(rng, 3 * d, 0, 0.7);
    w[n.convNorm] = randomArray(rng, d, 1, 0.3);
  }
  f.setWeights(w);
  return f;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

describe.each(BACKENDS)('EngramFusion forward (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, log: () => {} });
    // ENGRAM_AR_BACKEND may override initBackend's choice; this file tests both backends regardless.
    await tf.setBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  for (const conv of [false, true]) {
    it(`matches the float64 reference (conv ${conv ? 'on' : 'off'}), learned and clamped gate`, () => {
      const f = randomLayer(1, conv);
      const rng = new Rng(2);
      const h = randomArray(rng, B * T * d);
      const e = randomArray(rng, B * T * I);
      const shape: FusionShape = {
        batch: B,
        seqLen: T,
        d,
        inWidth: I,
        conv: conv ? { kernel: 3, dilation: 2 } : undefined,
      };
      for (const clamp of [undefined, -1, 0, 0.1]) {
        const { y, gate } = f.apply(tf.tensor2d(h, [B * T, d]), tf.tensor2d(e, [B * T, I]), {
          batch: B,
          seqLen: T,
          clamp,
        });
        const ref = fusionReference(f.weights(), h, e, { ...shape, clamp });
        expect(maxRelErr(y.dataSync(), ref.y)).toBeLessThan(1e-5);
        expect(maxRelErr(gate.dataSync(), ref.gate)).toBeLessThan(1e-5);
        if (clamp !== undefined && clamp >= 0)
          expect(Array.from(gate.dataSync())).toEqual(new Array(B * T).fill(Math.fround(clamp)));
        y.dispose();
        gate.dispose();
      }
      f.dispose();
    });
  }

  it('starts with the conv branch as an exact no-op (zero-initialised) and names its parameters', () => {
    const withConv = new EngramFusion({
      layer: 7,
      d,
      inWidth: I,
      conv: { enabled: true, kernel: 4, dilation: 1 },
      seed: 5,
    });
    const plain = new EngramFusion({ layer: 7, d, inWidth: I, seed: 5 });
    expect(Object.keys(withConv.variables()).sort()).toEqual(
      [
        'engram.7.conv.norm',
        'engram.7.conv.weight',
        'engram.7.norm_h',
        'engram.7.norm_k',
        'engram.7.w_k',
        'engram.7.w_v',
      ].sort(),
    );
    const rng = new Rng(3);
    const h = tf.tensor2d(randomArray(rng, B * T * d), [B * T, d]);
    const e = tf.tensor2d(randomArray(rng, B * T * I), [B * T, I]);
    const a = withConv.apply(h, e, { batch: B, seqLen: T });
    const b = plain.apply(h, e, { batch: B, seqLen: T });
    expect(Array.from(a.y.dataSync())).toEqual(Array.from(b.y.dataSync()));
    withConv.dispose();
    plain.dispose();
  });

  it('is causal and dilated: position 2 reaches only positions 2 and 4', () => {
    const f = randomLayer(4, true);
    const rng = new Rng(6);
    const h = randomArray(rng, B * T * d);
    const e = randomArray(rng, B * T * I);
    const shape: FusionShape = { batch: B, seqLen: T, d, inWidth: I, conv: { kernel: 3, dilation: 2 } };
    const base = fusionReference(f.weights(), h, e, shape).y;
    const e2 = e.slice();
    e2[(1 * T + 2) * I] += 1; // sample 1, position 2
    const changed = fusionReference(f.weights(), h, e2, shape).y;
    for (let t = 0; t < T; t++) {
      const same = [0, 1].every((b) =>
        Array.from({ length: d }, (_, j) => (b * T + t) * d + j).every((i) => changed[i] === base[i]),
      );
      // Position 2 feeds itself and, through the dilation-2 conv, positions 4 (and 6): never 0, 1 or 3.
      expect(same).toBe(t !== 2 && t !== 4);
    }
    f.dispose();
  });
});

describe.each(BACKENDS)('EngramFusion gradients (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, log: () => {} });
    // ENGRAM_AR_BACKEND may override initBackend's choice; this file tests both backends regardless.
    await tf.setBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  for (const conv of [false, true]) {
    it(`match central differences of the float64 reference for all weights, e and h (conv ${conv ? 'on' : 'off'})`, () => {
      const f = randomLayer(10, conv);
      const rng = new Rng(11);
      const h = randomArray(rng, B * T * d);
      const e = randomArray(rng, B * T * I);
      const ry = randomArray(rng, B * T * d); // loss = <y, ry> + <gate, rg>
      const rg = randomArray(rng, B * T);
      const shape: FusionShape = {
        batch: B,
        seqLen: T,
        d,
        inWidth: I,
        conv: conv ? { kernel: 3, dilation: 2 } : undefined,
      };

      const eVar = tf.variable(tf.tensor2d(e, [B * T, I]));
      const hVar = tf.variable(tf.tensor2d(h, [B * T, d]));
      const vars = { ...f.variables(), e: eVar, h: hVar };
      const { grads } = tf.variableGrads(() => {
        const { y, gate } = f.apply(hVar, eVar, { batch: B, seqLen: T });
        return tf.add(tf.sum(tf.mul(y, tf.tensor2d(ry, [B * T, d]))), tf.sum(tf.mul(gate, tf.tensor1d(rg))));
      }, Object.values(vars));

      const w = f.weights();
      const inputs: Record<string, Float64Array> = { e: Float64Array.from(e), h: Float64Array.from(h) };
      const n = fusionParamNames(3);
      const keyOf: Record<string, keyof FusionWeights> = {
        [n.wK]: 'wK',
        [n.wV]: 'wV',
        [n.normH]: 'normH',
        [n.normK]: 'normK',
        [n.convWeight]: 'convWeight',
        [n.convNorm]: 'convNorm',
      };
      const w64: FusionWeights = Object.fromEntries(
        Object.entries(w).map(([k, v]) => [k, Float64Array.from(v as Float32Array)]),
      ) as unknown as FusionWeights;
      const loss = () => {
        const out = fusionReference(w64, inputs.h!, inputs.e!, shape);
        let s = 0;
        for (let i = 0; i < out.y.length; i++) s += out.y[i]! * ry[i]!;
        for (let i = 0; i < out.gate.length; i++) s += out.gate[i]! * rg[i]!;
        return s;
      };
      for (const [name, v] of Object.entries(vars)) {
        const arr = (name in inputs ? inputs[name] : w64[keyOf[name]!]) as Float64Array;
        const fd = new Float64Array(arr.length);
        for (let i = 0; i < arr.length; i++) {
          const x = arr[i]!;
          arr[i] = x + 1e-6;
          const up = loss();
          arr[i] = x - 1e-6;
          const down = loss();
          arr[i] = x;
          fd[i] = (up - down) / 2e-6;
        }
        const got = grads[v.name]!.dataSync();
        expect(maxRelErr(got, fd), name).toBeLessThan(2e-3);
      }
      tf.dispose(Object.values(grads));
      eVar.dispose();
      hVar.dispose();
      f.dispose();
    });
  }
});
