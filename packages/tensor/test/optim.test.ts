import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  clipByGlobalNorm,
  initBackend,
  loadCheckpoint,
  lrSchedule,
  type NamedTensor,
  Rng,
  type RngState,
  saveCheckpoint,
  tf,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => {} });
  dir = await mkdtemp(join(tmpdir(), 'engram-ar-optim-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Plain float64 AdamW, written straight from the paper's algorithm (decoupled decay). */
class ReferenceAdamW {
  m: Float64Array[];
  v: Float64Array[];
  t = 0;
  constructor(
    public p: Float64Array[],
    public wd: number[],
    public b1 = 0.9,
    public b2 = 0.999,
    public eps = 1e-8,
  ) {
    this.m = p.map((x) => new Float64Array(x.length));
    this.v = p.map((x) => new Float64Array(x.length));
  }
  step(g: Float64Array[], lr: number): void {
    this.t++;
    for (let i = 0; i < this.p.length; i++) {
      const p = this.p[i]!;
      for (let j = 0; j < p.length; j++) {
        this.m[i]![j] = this.b1 * this.m[i]![j]! + (1 - this.b1) * g[i]![j]!;
        this.v[i]![j] = this.b2 * this.v[i]![j]! + (1 - this.b2) * g[i]![j]! ** 2;
        const mh = this.m[i]![j]! / (1 - this.b1 ** this.t);
        const vh = this.v[i]![j]! / (1 - this.b2 ** this.t);
        p[j] = p[j]! - lr * this.wd[i]! * p[j]! - (lr * mh) / (Math.sqrt(vh) + this.eps);
      }
    }
  }
}

describe('AdamW', () => {
  it('matches a float64 reference over 20 steps with two param groups and a schedule', () => {
    const rng = new Rng('adamw-ref');
    const shapes = [[4, 3], [5], [2, 2, 2]];
    const init = shapes.map((s) => rng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1))));
    const vars = init.map((d, i) => tf.variable(tf.tensor(d, shapes[i]!), true, `ref_p${i}`));
    const opt = new AdamW([{ params: [vars[0]!, vars[2]!] }, { params: [vars[1]!], weightDecay: 0 }], {
      weightDecay: 0.1,
      beta2: 0.99,
    });
    const ref = new ReferenceAdamW(
      [Float64Array.from(init[0]!), Float64Array.from(init[1]!), Float64Array.from(init[2]!)],
      [0.1, 0, 0.1],
      0.9,
      0.99,
    );
    const sched = lrSchedule({ peak: 1e-2, warmupSteps: 3, totalSteps: 20, min: 1e-3 });
    for (let step = 0; step < 20; step++) {
      const g = shapes.map((s) => rng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1))));
      const grads = Object.fromEntries(g.map((d, i) => [`ref_p${i}`, tf.tensor(d, shapes[i]!)]));
      opt.applyGradients(grads, sched(step));
      tf.dispose(Object.values(grads));
      // reference order is [p0, p1, p2]; the optimiser's groups are [p0, p2], [p1]
      ref.step(
        g.map((d) => Float64Array.from(d)),
        sched(step),
      );
    }
    expect(opt.step).toBe(20);
    for (let i = 0; i < 3; i++) {
      const got = vars[i]!.dataSync();
      for (let j = 0; j < got.length; j++) {
        expect(Math.abs(got[j]! - ref.p[i]![j]!)).toBeLessThan(1e-5 * (1 + Math.abs(ref.p[i]![j]!)));
      }
    }
    opt.dispose();
    tf.dispose(vars);
  });

  it('decoupled decay: with zero gradients a decayed param shrinks by (1 − lr·wd)^t, an undecayed one stays', () => {
    const a = tf.variable(tf.tensor1d([2, -4]), true, 'decay_a');
    const b = tf.variable(tf.tensor1d([3]), true, 'decay_b');
    const opt = new AdamW([{ params: [a] }, { params: [b], weightDecay: 0 }], { lr: 0.1, weightDecay: 0.5 });
    for (let i = 0; i < 3; i++) opt.applyGradients({ decay_a: tf.zeros([2]), decay_b: tf.zeros([1]) });
    const f = 0.95 ** 3;
    expect(Array.from(a.dataSync())).toEqual(
      [Math.fround(2 * f), Math.fround(-4 * f)].map((x) => expect.closeTo(x, 6)),
    );
    expect(Array.from(b.dataSync())).toEqual([3]);
    const grads = { decay_a: tf.ones([2]), decay_b: tf.ones([1]) };
    const before = tf.memory().numTensors;
    opt.applyGradients(grads);
    clipByGlobalNorm(grads, 0.1).grads.decay_a!.dispose();
    expect(tf.memory().numTensors - before).toBe(1); // only clip's other output: nothing else leaks
    expect(() => opt.applyGradients({ nope: tf.zeros([1]) })).toThrow(/unknown parameter "nope"/);
    expect(() => opt.applyGradients({ decay_a: tf.zeros([3]) })).toThrow(
      /"decay_a" has shape \[3\], parameter has \[2\]/,
    );
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('validates options and loadState input', () => {
    const p = tf.variable(tf.zeros([2]), true, 'val_p');
    expect(() => new AdamW([p], { beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => new AdamW([p], { lr: -1 })).toThrow(/lr must be/);
    expect(() => new AdamW([{ params: [p] }, { params: [p] }])).toThrow(/"val_p" appears twice/);
    const opt = new AdamW([p]);
    expect(() =>
      opt.loadState({
        step: 1,
        names: ['x', 'y'],
        m: [new Float32Array(2), new Float32Array(2)],
        v: [new Float32Array(2), new Float32Array(2)],
      }),
    ).toThrow(/2\/2 moment buffers, optimiser has 1 parameters/);
    expect(() =>
      opt.loadState({ step: 1, names: ['x'], m: [new Float32Array(3)], v: [new Float32Array(3)] }),
    ).toThrow(/parameter 0 \("val_p", saved as "x"\): saved moments have 3 elements, parameter has 2/);
    opt.dispose();
    p.dispose();
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`resume from a checkpoint is bit-identical to an uninterrupted run (${backend})`, async () => {
      await initBackend({ backend, log: () => {} });
      const N = 12;
      const K = 5;
      const shapes: Record<string, number[]> = { w1: [6, 8], w2: [8, 3], g: [8] };

      /** Fresh model from a parameter map; names are fixed by the caller so a resumed model matches. */
      const build = (init: Record<string, Float32Array>, tag: string) => {
        const vars = Object.fromEntries(
          Object.entries(shapes).map(([k, s]) => [
            k,
            tf.variable(tf.tensor(init[k]!, s), true, `${tag}_${k}`),
          ]),
        );
        const opt = new AdamW([{ params: [vars.w1!, vars.w2!] }, { params: [vars.g!], weightDecay: 0 }], {
          weightDecay: 0.05,
        });
        return { vars, opt };
      };
      const sched = lrSchedule({ peak: 3e-2, warmupSteps: 2, totalSteps: N, min: 1e-3 });
      /** One training step on a fresh batch from `rng`: clipped grads of an MSE through tanh and a gain. */
      const trainStep = (m: ReturnType<typeof build>, rng: Rng, step: number) => {
        const x = tf.tensor2d(rng.fillNormal(new Float32Array(4 * 6)), [4, 6]);
        const y = tf.tensor2d(rng.fillNormal(new Float32Array(4 * 3)), [4, 3]);
        const { grads } = tf.variableGrads(
          () =>
            tf.mean(
              tf.square(
                tf.sub(tf.matMul(tf.mul(tf.tanh(tf.matMul(x, m.vars.w1!)), m.vars.g!), m.vars.w2!), y),
              ),
            ) as tf.Scalar,
        );
        const clipped = clipByGlobalNorm(grads, 0.5);
        m.opt.applyGradients(clipped.grads, sched(step));
        tf.dispose([x, y, ...Object.values(grads), ...Object.values(clipped.grads)]);
      };
      const initRng = new Rng('resume-init');
      const init = Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => [
          k,
          initRng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1)), 0, 0.5),
        ]),
      );
      const bits = (vars: Record<string, tf.Variable>) =>
        Object.fromEntries(
          Object.entries(vars).map(([k, v]) => [
            k,
            Array.from(new Uint32Array(Float32Array.from(v.dataSync()).buffer)),
          ]),
        );

      const straight = build(init, `${backend}_a`);
      const rngA = new Rng('resume-data');
      for (let s = 0; s < N; s++) trainStep(straight, rngA, s);

      const first = build(init, `${backend}_b`);
      const rngB = new Rng('resume-data');
      for (let s = 0; s < K; s++) trainStep(first, rngB, s);
      const st = AdamW.stateToTensors(first.opt.state());
      const params: Record<string, NamedTensor> = Object.fromEntries(
        Object.entries(first.vars).map(([k, v]) => [
          `param.${k}`,
          { dtype: 'F32', shape: v.shape, data: Float32Array.from(v.dataSync()) },
        ]),
      );
      const path = join(dir, `resume-${backend}.safetensors`);
      await saveCheckpoint(
        path,
        { ...params, ...st.tensors },
        { step: K, optimizer: st.json, rng: rngB.state() },
      );
      first.opt.dispose();
      tf.dispose(Object.values(first.vars));

      const ck = await loadCheckpoint(path);
      const side = ck.sidecar as {
        step: number;
        optimizer: { step: number; names: string[] };
        rng: RngState;
      };
      const resumed = build(
        Object.fromEntries(
          Object.keys(shapes).map((k) => [k, ck.tensors[`param.${k}`]!.data as Float32Array]),
        ),
        `${backend}_c`,
      );
      resumed.opt.loadState(AdamW.stateFromTensors(ck.tensors, side.optimizer));
      const rngC = Rng.fromState(side.rng);
      for (let s = side.step; s < N; s++) trainStep(resumed, rngC, s);

      expect(resumed.opt.step).toBe(N);
      expect(bits(resumed.vars)).toEqual(bits(straight.vars));
      // and the moments too
      const a = straight.opt.state();
      const c = resumed.opt.state();
      expect(c.m.map((x) => Array.from(new Uint32Array(x.buffer)))).toEqual(
        a.m.map((x) => Array.from(new Uint32Array(x.buffer))),
      );
      expect(c.v.map((x) => Array.from(new Uint32Array(x.buffer)))).toEqual(
        a.v.map((x) => Array.from(new Uint32Array(x.buffer))),
      );
      for (const m of [straight, resumed]) {
        m.opt.dispose();
        tf.dispose(Object.values(m.vars));
      }
    });
  }
});

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm/‖g‖ over all tensors when above, copies when below (closed form)', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) }; // ‖g‖ = 5
    const c = clipByGlobalNorm(g, 1);
    expect(c.norm).toBeCloseTo(5, 6);
    expect(Array.from(c.grads.a!.dataSync())).toEqual([expect.closeTo(0.6, 6), 0]);
    expect(Array.from(c.grads.b!.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
    const u = clipByGlobalNorm([tf.tensor1d([1, 2]), tf.tensor1d([2])], 10); // ‖g‖ = 3
    expect(u.norm).toBeCloseTo(3, 6);
    expect(u.grads.map((t) => Array.from(t.dataSync()))).toEqual([[1, 2], [2]]);
    u.grads[0]!.dispose();
    expect(Array.from(g.a.dataSync())).toEqual([3, 0]); // inputs untouched
    expect(clipByGlobalNorm([], 1).norm).toBe(0);
    expect(() => clipByGlobalNorm([], 0)).toThrow(/maxNorm must be > 0/);
  });
});

describe('lrSchedule', () => {
  it('linear warmup then cosine to min (closed form)', () => {
    const f = lrSchedule({ peak: 1, warmupSteps: 4, totalSteps: 14, min: 0.1 });
    expect([0, 1, 2, 3].map(f)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(f(4)).toBe(1); // cosine starts at peak
    expect(f(9)).toBeCloseTo(0.55, 12); // halfway: (peak + min) / 2
    expect(f(4 + 10 / 3)).toBeCloseTo(0.1 + 0.9 * 0.75, 12); // cos(π/3) = 1/2 → 3/4 of the range
    expect(f(14)).toBe(0.1);
    expect(f(1000)).toBe(0.1);
    for (let s = 4; s < 14; s++) expect(f(s + 1)).toBeLessThan(f(s));
    expect(lrSchedule({ peak: 2, warmupSteps: 0, totalSteps: 0 })(0)).toBe(0);
    expect(lrSchedule({ peak: 2, warmupSteps: 0, totalSteps: 10 })(0)).toBe(2);
    expect(() => lrSchedule({ peak: 1, warmupSteps: 5, totalSteps: 3 })).toThrow(/warmupSteps ≤ totalSteps/);
    expect(() => lrSchedule({ peak: 1, warmupSteps: 0, totalSteps: 3, min: 2 })).toThrow(/min ≤ peak/);
  });
});
