import { buildHashSpec, EngramTable, rowsForGrids } from '@engram-ar/engram';
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGPTConfig } from '../src/config.js';
import { crossEntropy, GPT, type HostWeights, initHostWeights, matmul } from '../src/model.js';
import { referenceForward } from '../src/reference.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cfg = parseGPTConfig({
  vocab: 11,
  height: 3,
  width: 4,
  numClasses: 3,
  nLayer: 2,
  nHead: 2,
  dim: 16,
  mlpHidden: 24,
});

/** Random weights everywhere (the real init zeroes the head, which would make every logit 0). */
function randomHost(seed: number): HostWeights {
  const host = initHostWeights(cfg);
  const rng = new Rng(seed);
  for (const w of Object.values(host)) rng.fillNormal(w.data, w.shape.length === 1 ? 1 : 0, 0.3);
  return host;
}

function batch(B: number, seed: number): { codes: Int32Array; classes: Int32Array } {
  const rng = new Rng(seed);
  const codes = new Int32Array(B * 12).map(() => rng.int(cfg.vocab));
  const classes = new Int32Array(B).map(() => rng.int(cfg.numClasses + 1));
  return { codes, classes };
}

describe('GPT forward', () => {
  it('matches the float64 reference', () => {
    const host = randomHost(1);
    const m = new GPT(cfg, host);
    const input = batch(3, 2);
    const logits = tf.tidy(() => m.forward(input).logits.dataSync() as Float32Array);
    const ref = referenceForward(cfg, host, input).logits;
    expect(logits.length).toBe(ref.length);
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(logits[i]! - ref[i]!));
    expect(maxErr).toBeLessThan(1e-4);
    m.dispose();
  });

  it('is causal: code t changes only logits at positions > t', () => {
    const host = randomHost(3);
    const m = new GPT(cfg, host);
    const a = batch(1, 4);
    const b = { codes: a.codes.slice(), classes: a.classes };
    const t = 5;
    b.codes[t] = (b.codes[t]! + 1) % cfg.vocab;
    const [la, lb] = tf.tidy(() => [m.forward(a).logits.arraySync(), m.forward(b).logits.arraySync()]);
    for (let p = 0; p < 12; p++) {
      const diff = Math.max(...la![p]!.map((v, j) => Math.abs(v - lb![p]![j]!)));
      if (p <= t) expect(diff).toBe(0);
      else expect(diff).toBeGreaterThan(1e-6);
    }
    m.dispose();
  });

  it('zero-initialised head gives uniform logits and loss ln V', () => {
    const m = new GPT(cfg);
    const input = batch(2, 5);
    const loss = tf.tidy(() => crossEntropy(m.forward(input).logits, input.codes).dataSync()[0]!);
    expect(loss).toBeCloseTo(Math.log(cfg.vocab), 5);
    m.dispose();
  });
});

describe('custom gradients', () => {
  it.each(['cpu', 'wasm'])(
    'matmul gradient equals tfjs matMul gradient (2D and batched) on %s',
    async (backend) => {
      expect(await tf.setBackend(backend)).toBe(true);
      const rng = new Rng(9);
      const shapes: [number[], number[]][] = [
        [
          [5, 7],
          [7, 3],
        ],
        [
          [4, 5, 6],
          [4, 6, 2],
        ],
      ];
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      for (const [as, bs] of shapes) {
        const a = tf.tensor(rng.fillNormal(new Float32Array(size(as))), as);
        const b = tf.tensor(rng.fillNormal(new Float32Array(size(bs))), bs);
        const w = tf.tensor(rng.fillNormal(new Float32Array(size(as.slice(0, -1)) * bs.at(-1)!)));
        const f1 = (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.reshape(matmul(x as tf.Tensor2D, y as tf.Tensor2D), [-1]), w));
        const f2 = (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.reshape(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), [-1]), w));
        const g1 = tf.grads(f1)([a, b]);
        const g2 = tf.grads(f2)([a, b]);
        for (let i = 0; i < 2; i++) {
          const d = tf.max(tf.abs(tf.sub(g1[i]!, g2[i]!))).dataSync()[0]!;
          expect(d).toBeLessThan(1e-5);
        }
      }
      await tf.setBackend('cpu');
    },
  );

  it('cross-entropy gradient matches finite differences', () => {
    const rng = new Rng(11);
    const x = rng.fillNormal(new Float32Array(3 * 5));
    const targets = new Int32Array([0, 4, 2]);
    const f = (v: Float32Array) => {
      let s = 0;
      for (let i = 0; i < 3; i++) {
        const row = Array.from(v.subarray(i * 5, i * 5 + 5));
        const mx = Math.max(...row);
        s += Math.log(row.reduce((a, b) => a + Math.exp(b - mx), 0)) + mx - row[targets[i]!]!;
      }
      return s / 3;
    };
    const g = tf
      .grad((t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, targets))(tf.tensor2d(x, [3, 5]))
      .dataSync();
    const h = 1e-3;
    for (let i = 0; i < x.length; i++) {
      const p = x.slice();
      const q = x.slice();
      p[i]! += h;
      q[i]! -= h;
      expect(g[i]!).toBeCloseTo((f(p) - f(q)) / (2 * h), 3);
    }
  });
});

describe('GPT with Engram', () => {
  for (const conv of [false, true]) {
    it(`matches the float64 reference (conv ${conv}), learned and clamped gates`, () => {
      const c = parseGPTConfig({
        ...cfg,
        nLayer: 3,
        engram: {
          layers: [0, 2],
          vocab: cfg.vocab,
          tableRows: 50,
          dHead: 4,
          heads: 2,
          conv: { enabled: conv, kernel: 3, dilation: 1 },
        },
      });
      const host = initHostWeights(c);
      const rng = new Rng(21);
      for (const w of Object.values(host)) rng.fillNormal(w.data, w.shape.length === 1 ? 1 : 0, 0.3);
      const m = new GPT(c, host);
      const B = 2;
      const input = batch(B, 22);
      const E = 2 * 2 * 2 * 4; // Le·S·K·dHead
      const e = rng.fillNormal(new Float32Array(B * 12 * E));
      for (const gateClamp of [undefined, [0.1, -1]]) {
        const [logits, gates] = tf.tidy(() => {
          const out = m.forward({ ...input, engram: tf.tensor2d(e, [B * 12, E]), gateClamp });
          return [out.logits.dataSync(), out.gates!.dataSync()];
        });
        const ref = referenceForward(c, host, { ...input, engram: e, gateClamp });
        let maxErr = 0;
        for (let i = 0; i < ref.logits.length; i++)
          maxErr = Math.max(maxErr, Math.abs(logits![i]! - ref.logits[i]!));
        expect(maxErr).toBeLessThan(2e-4);
        for (let i = 0; i < ref.gates.length; i++) expect(gates![i]!).toBeCloseTo(ref.gates[i]!, 4);
        if (gateClamp) for (let r = 0; r < B * 12; r++) expect(gates![r * 2]!).toBeCloseTo(0.1, 6);
      }
      m.dispose();
    });
  }
});

describe('host-gathered rows', () => {
  it('d loss / d e, scattered onto row ids, equals the dense tf.gather gradient of the table', () => {
    const c = parseGPTConfig({
      ...cfg,
      engram: { layers: [1], vocab: cfg.vocab, tableRows: 7, dHead: 3, heads: 2 },
    });
    const spec = buildHashSpec(c.engram!);
    const table = new EngramTable(spec, { init: { kind: 'normal', std: 1 } });
    const host = initHostWeights(c);
    const rng = new Rng(31);
    for (const w of Object.values(host)) rng.fillNormal(w.data, w.shape.length === 1 ? 1 : 0, 0.3);
    const m = new GPT(c, host);
    const B = 3;
    const input = batch(B, 32);
    const ids = rowsForGrids(spec, input.codes, [B, cfg.height, cfg.width]);
    const E = spec.rowsPerPosition * 3;
    const loss = (e: tf.Tensor2D) => crossEntropy(m.forward({ ...input, engram: e }).logits, input.codes);
    // host path: gradient w.r.t. the gathered rows, summed per row id
    const eGrad = tf.grad((e: tf.Tensor) => loss(e as tf.Tensor2D))(
      tf.tensor2d(table.gatherRows(ids), [B * 12, E]),
    );
    const g = eGrad.dataSync();
    const hostGrad = new Float64Array(table.rows * 3);
    ids.forEach((r, i) => {
      for (let d = 0; d < 3; d++) hostGrad[r * 3 + d]! += g[i * 3 + d]!;
    });
    // dense path: the table as a tensor, rows gathered inside the graph
    const denseGrad = tf
      .grad((t: tf.Tensor) =>
        loss(tf.reshape(tf.gather(t, tf.tensor1d(ids, 'int32')), [B * 12, E]) as tf.Tensor2D),
      )(tf.tensor2d(table.data, [table.rows, 3]))
      .dataSync();
    let maxErr = 0;
    let maxAbs = 0;
    for (let i = 0; i < hostGrad.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(hostGrad[i]! - denseGrad[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(denseGrad[i]!));
    }
    expect(maxAbs).toBeGreaterThan(1e-4);
    expect(maxErr).toBeLessThan(1e-6);
    m.dispose();
  });
});
