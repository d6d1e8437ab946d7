import { createSession, type FeedValue, maybeDumpModel, type Session } from '@engram-ar/onnx';
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import { buildStepGraph } from '../src/step-graph.js';
import { referenceForward, type TinyModel, type TinySpec, tinyModel } from './reference.js';

const i64 = (a: ArrayLike<number>, dims: number[]): FeedValue => ({
  type: 'int64',
  data: BigInt64Array.from(Array.from(a, (v) => BigInt(v))),
  dims,
});
const f32 = (a: Float32Array, dims: number[]): FeedValue => ({ type: 'float32', data: a, dims });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Random sequences: class token then codes; random rows; positions 0..T-1. */
function randomInput(model: TinyModel, B: number, T: number, seed: number) {
  const m = model.manifest;
  const rng = new Rng(seed);
  const ids = new Int32Array(B * T);
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = t === 0 ? m.classTokenOffset + rng.int(m.numClasses + 1) : rng.int(m.vocab);
      pos[b * T + t] = t;
    }
  const Le = m.engram?.layers.length ?? 0;
  const SK = m.engram?.rowsPerLayer ?? 0;
  const rows = new Int32Array(B * T * Le * SK);
  for (let i = 0; i < rows.length; i++) rows[i] = rng.int(m.engram?.tableRows ?? 1);
  return { ids, pos, rows, B, T };
}

/** Runs positions [t0, t1) of every row given the caches; returns logits, gates and new caches. */
async function runSlice(
  s: Session,
  model: TinyModel,
  inp: ReturnType<typeof randomInput>,
  t0: number,
  t1: number,
  cache: Record<string, FeedValue>,
  clamp: number[],
) {
  const m = model.manifest;
  const { B, T } = inp;
  const n = t1 - t0;
  const Le = m.engram?.layers.length ?? 0;
  const SK = m.engram?.rowsPerLayer ?? 0;
  const pick = (a: Int32Array, per: number) => {
    const out = new Int32Array(B * n * per);
    for (let b = 0; b < B; b++) out.set(a.subarray((b * T + t0) * per, (b * T + t1) * per), b * n * per);
    return out;
  };
  const feeds: Record<string, FeedValue> = {
    input_ids: i64(pick(inp.ids, 1), [B, n]),
    position_ids: i64(pick(inp.pos, 1), [B, n]),
    ...cache,
  };
  if (m.engram) {
    feeds.engram_rows = i64(pick(inp.rows, Le * SK), [B, n, Le, SK]);
    feeds.gate_clamp = f32(Float32Array.from(clamp), [Le]);
  }
  const out = await s.run(feeds);
  const next: Record<string, FeedValue> = {};
  for (const name of m.io.inputs) {
    const src = name.startsWith('past_key_values.')
      ? name.replace('past_key_values.', 'present.')
      : name.startsWith('conv_state.')
        ? `present_${name}`
        : null;
    if (src) next[name] = { type: 'float32', data: out[src]!.data as Float32Array, dims: out[src]!.dims };
  }
  return { logits: out.logits!.data as Float32Array, gates: out.engram_gate?.data as Float32Array, next };
}

function emptyCache(model: TinyModel, B: number): Record<string, FeedValue> {
  const m = model.manifest;
  const c: Record<string, FeedValue> = {};
  for (let i = 0; i < m.nLayer; i++) {
    c[`past_key_values.${i}.key`] = f32(new Float32Array(0), [B, m.nHead, 0, m.headDim]);
    c[`past_key_values.${i}.value`] = f32(new Float32Array(0), [B, m.nHead, 0, m.headDim]);
  }
  const conv = m.engram?.conv;
  if (conv) {
    const L = (conv.kernel - 1) * conv.dilation;
    m.engram!.layers.forEach((_, l) => {
      c[`conv_state.${l}`] = f32(new Float32Array(B * L * m.dim), [B, L, m.dim]);
    });
  }
  return c;
}

const base: TinySpec = {
  vocab: 11,
  numClasses: 3,
  height: 3,
  width: 4,
  nLayer: 2,
  nHead: 2,
  dim: 16,
  mlpHidden: 24,
  seed: 7,
};

const cases: [string, TinySpec, number[]][] = [
  ['baseline', base, []],
  [
    'engram',
    { ...base, engram: { layers: [0, 1], stencils: [['L', 'U']], heads: 3, tableRows: 13, dHead: 4 } },
    [-1, -1],
  ],
  [
    'engram + conv, clamped layer 1',
    {
      ...base,
      engram: {
        layers: [1],
        stencils: [['L'], ['U', 'UL']],
        heads: 1,
        tableRows: 17,
        dHead: 3,
        conv: { kernel: 4, dilation: 2 },
      },
    },
    [0.1],
  ],
];

describe.each(cases)('step graph (%s)', (_name, spec, clamp) => {
  const model = tinyModel(spec);
  const B = 2;
  const T = spec.height * spec.width;
  const inp = randomInput(model, B, T, 3);
  const ref = referenceForward(model, { ...inp, clamp });

  for (const attention of ['plain', 'contrib'] as const) {
    it(`${attention}: prefill logits and gates match the float64 reference`, async () => {
      const bytes = buildStepGraph({ ...model, attention }).toBytes();
      // With ONNX_CHECK_DIR set, the model is kept for `pnpm onnx:check` (onnx.checker full_check).
      await maybeDumpModel(`sampler-step-${_name.replace(/\W+/g, '-')}-${attention}`, bytes);
      const s = await createSession(bytes);
      const r = await runSlice(s, model, inp, 0, T, emptyCache(model, B), clamp);
      expect(maxAbsDiff(r.logits, ref.logits)).toBeLessThan(1e-4);
      if (spec.engram) expect(maxAbsDiff(r.gates, ref.gates)).toBeLessThan(1e-5);
    });

    it(`${attention}: prefill of a prefix then one-token decode steps equals full recompute`, async () => {
      const s = await createSession(buildStepGraph({ ...model, attention }).toBytes());
      const V = spec.vocab;
      let cache = emptyCache(model, B);
      const got = new Float32Array(B * T * V);
      const split = 5;
      const pieces: [number, number][] = [[0, split]];
      for (let t = split; t < T; t++) pieces.push([t, t + 1]);
      for (const [t0, t1] of pieces) {
        const r = await runSlice(s, model, inp, t0, t1, cache, clamp);
        for (let b = 0; b < B; b++)
          got.set(r.logits.subarray(b * (t1 - t0) * V, (b + 1) * (t1 - t0) * V), (b * T + t0) * V);
        cache = r.next;
      }
      expect(maxAbsDiff(got, ref.logits)).toBeLessThan(1e-4);
    });
  }
});
