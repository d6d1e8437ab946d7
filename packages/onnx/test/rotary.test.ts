// com.microsoft RotaryEmbedding and multi-head MultiHeadAttention conventions (layouts, pairing,
// position ids, cache) pinned against TS references, as the step-graph export relies on them.
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  GraphBuilder,
  maybeDumpModel,
  type ort,
  tensorF32,
  tensorI64,
} from '../src/index.js';
import { maxAbsDiff, multiHeadCausalRef, randn, ropeCaches, ropeRef } from './reference.js';

const N = 2;
const H = 8;
const MAX_POS = 32;

describe('RotaryEmbedding (com.microsoft)', () => {
  it.each([false, true])(
    'interleaved=%s matches the reference at arbitrary positions',
    async (interleaved) => {
      const rng = new Rng(`rope-${interleaved}`);
      const caches = ropeCaches(MAX_POS, H);
      const b = new GraphBuilder({ name: `rope_${interleaved ? 'interleaved' : 'half'}` });
      const x = b.input('x', 'float32', ['B', 'T', N * H]);
      const pos = b.input('pos', 'int64', ['B', 'T']);
      const cos = b.init('cos', caches.cos, [MAX_POS, H / 2]);
      const sin = b.init('sin', caches.sin, [MAX_POS, H / 2]);
      b.output(
        'y',
        'float32',
        ['B', 'T', N * H],
        b.rotaryEmbedding(x, pos, cos, sin, { numHeads: N, interleaved }),
      );
      const bytes = b.toBytes();
      await maybeDumpModel(`rope_${interleaved ? 'interleaved' : 'half'}`, bytes);
      const s = await createSession(bytes);
      const xs = randn(rng, 2 * 3 * N * H);
      const positions = [0, 1, 2, 9, 17, 31];
      const r = await s.run({ x: tensorF32(xs, [2, 3, N * H]), pos: tensorI64(positions, [2, 3]) });
      expect(maxAbsDiff(asF32(r.y!), ropeRef(xs, positions, N, H, H, caches, interleaved))).toBeLessThan(
        1e-5,
      );
    },
  );

  it('partial rotary dim leaves the remaining channels untouched', async () => {
    const rng = new Rng('rope-partial');
    const R = 4;
    const caches = ropeCaches(MAX_POS, R);
    const b = new GraphBuilder({ name: 'rope_partial' });
    const x = b.input('x', 'float32', ['B', 'T', N * H]);
    const pos = b.input('pos', 'int64', ['B', 'T']);
    const y = b.rotaryEmbedding(
      x,
      pos,
      b.init('cos', caches.cos, [MAX_POS, R / 2]),
      b.init('sin', caches.sin, [MAX_POS, R / 2]),
      { numHeads: N, rotaryDim: R },
    );
    b.output('y', 'float32', ['B', 'T', N * H], y);
    const bytes = b.toBytes();
    await maybeDumpModel('rope_partial', bytes);
    const xs = randn(rng, 4 * N * H);
    const positions = [3, 4, 5, 6];
    const r = await (await createSession(bytes)).run({
      x: tensorF32(xs, [1, 4, N * H]),
      pos: tensorI64(positions, [1, 4]),
    });
    expect(maxAbsDiff(asF32(r.y!), ropeRef(xs, positions, N, H, R, caches, false))).toBeLessThan(1e-5);
  });
});

describe('multi-head attention with rotary q/k and a KV cache', () => {
  const rng = new Rng('mha-rope');
  const D = N * H;
  const T = 6;
  const caches = ropeCaches(MAX_POS, H);
  const w = { q: randn(rng, D * D, 0.4), k: randn(rng, D * D, 0.4), v: randn(rng, D * D, 0.4) };
  const xs = randn(rng, T * D);

  function build(): Uint8Array {
    const b = new GraphBuilder({ name: 'mha_rope' });
    const x = b.input('x', 'float32', ['B', 'T', D]);
    const pos = b.input('pos', 'int64', ['B', 'T']);
    const pastK = b.input('past_key', 'float32', ['B', N, 'P', H]);
    const pastV = b.input('past_value', 'float32', ['B', N, 'P', H]);
    const cos = b.init('cos', caches.cos, [MAX_POS, H / 2]);
    const sin = b.init('sin', caches.sin, [MAX_POS, H / 2]);
    const rope = (t: string) => b.rotaryEmbedding(t, pos, cos, sin, { numHeads: N });
    const q = rope(b.matmul(x, b.init('wq', w.q, [D, D])));
    const k = rope(b.matmul(x, b.init('wk', w.k, [D, D])));
    const v = b.matmul(x, b.init('wv', w.v, [D, D]));
    const att = b.multiHeadAttention(q, k, v, {
      numHeads: N,
      pastKey: pastK,
      pastValue: pastV,
      unidirectional: true,
    });
    b.output('out', 'float32', ['B', 'T', D], att.output);
    b.output('present_key', 'float32', ['B', N, 'S', H], att.presentKey!);
    b.output('present_value', 'float32', ['B', N, 'S', H], att.presentValue!);
    return b.toBytes();
  }

  function reference(): Float32Array {
    const mm = (m: Float32Array) => {
      const out = new Float32Array(T * D);
      for (let i = 0; i < T; i++)
        for (let j = 0; j < D; j++) {
          let s = 0;
          for (let p = 0; p < D; p++) s += xs[i * D + p]! * m[p * D + j]!;
          out[i * D + j] = s;
        }
      return out;
    };
    const positions = Array.from({ length: T }, (_, i) => i);
    const q = ropeRef(mm(w.q), positions, N, H, H, caches, false);
    const k = ropeRef(mm(w.k), positions, N, H, H, caches, false);
    return multiHeadCausalRef(q, k, mm(w.v), T, N, H);
  }

  it('full pass, and prefill + decode steps, both equal the reference', async () => {
    const bytes = build();
    await maybeDumpModel('mha_rope', bytes);
    const s = await createSession(bytes);
    const empty = tensorF32(new Float32Array(0), [1, N, 0, H]);
    const rows = (a: number, z: number) => tensorF32(xs.slice(a * D, z * D), [1, z - a, D]);
    const posOf = (a: number, z: number) =>
      tensorI64(
        Array.from({ length: z - a }, (_, i) => a + i),
        [1, z - a],
      );
    const want = reference();
    const full = await s.run({ x: rows(0, T), pos: posOf(0, T), past_key: empty, past_value: empty });
    expect(maxAbsDiff(asF32(full.out!), want)).toBeLessThan(1e-5);

    const prefill = 4;
    let step: Record<string, ort.Tensor> = await s.run({
      x: rows(0, prefill),
      pos: posOf(0, prefill),
      past_key: empty,
      past_value: empty,
    });
    const got = Array.from(asF32(step.out!));
    for (let t = prefill; t < T; t++) {
      step = await s.run({
        x: rows(t, t + 1),
        pos: posOf(t, t + 1),
        past_key: step.present_key!,
        past_value: step.present_value!,
      });
      got.push(...asF32(step.out!));
    }
    expect(step.present_key!.dims).toEqual([1, N, T, H]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    // The cache holds the rotated keys: head 1 of the last position is its reference key.
    expect(maxAbsDiff(asF32(step.present_key!), asF32(full.present_key!))).toBeLessThan(1e-6);
  });
});
