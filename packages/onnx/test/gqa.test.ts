// com.microsoft GroupQueryAttention with rotary q/k and a preallocated KV buffer updated in place
// (the same tensors fed as past and preallocated as present): prefill then decode must equal the
// TS reference, and the buffer must hold the rotated keys at their positions.
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  GraphBuilder,
  maybeDumpModel,
  ort,
  tensorF32,
  tensorI32,
} from '../src/index.js';
import { matmulRef, maxAbsDiff, multiHeadCausalRef, randn, ropeCaches, ropeRef } from './reference.js';

const N = 2;
const H = 16;
const D = N * H;
const MAX = 12;
const T = 7;
const PREFILL = 4;

describe('GroupQueryAttention (com.microsoft)', () => {
  const rng = new Rng('gqa');
  const caches = ropeCaches(MAX, H);
  const w = { q: randn(rng, D * D, 0.4), k: randn(rng, D * D, 0.4), v: randn(rng, D * D, 0.4) };
  const B = 2;
  const xs = randn(rng, B * T * D);

  function build(): Uint8Array {
    const b = new GraphBuilder({ name: 'gqa_rope' });
    const x = b.input('x', 'float32', ['B', 'T', D]);
    const pastK = b.input('past_key', 'float32', ['B', N, 'M', H]);
    const pastV = b.input('past_value', 'float32', ['B', N, 'M', H]);
    const seqlensK = b.input('seqlens_k', 'int32', ['B']);
    const total = b.input('total_sequence_length', 'int32', []);
    const r = b.groupQueryAttention(
      b.matmul(x, b.init('wq', w.q, [D, D])),
      b.matmul(x, b.init('wk', w.k, [D, D])),
      b.matmul(x, b.init('wv', w.v, [D, D])),
      {
        numHeads: N,
        pastKey: pastK,
        pastValue: pastV,
        seqlensK,
        totalSequenceLength: total,
        rotary: {
          cosCache: b.init('cos', caches.cos, [MAX, H / 2]),
          sinCache: b.init('sin', caches.sin, [MAX, H / 2]),
        },
      },
    );
    b.output('out', 'float32', ['B', 'T', D], r.output);
    b.output('present_key', 'float32', ['B', N, 'M', H], r.presentKey);
    b.output('present_value', 'float32', ['B', N, 'M', H], r.presentValue);
    return b.toBytes();
  }

  /** Reference output [T, D] and rotated keys [T, D] of batch item i. */
  function reference(i: number) {
    const xi = xs.subarray(i * T * D, (i + 1) * T * D);
    const pos = Array.from({ length: T }, (_, t) => t);
    const q = ropeRef(matmulRef(xi, w.q, T, D, D), pos, N, H, H, caches, false);
    const k = ropeRef(matmulRef(xi, w.k, T, D, D), pos, N, H, H, caches, false);
    return { out: multiHeadCausalRef(q, k, matmulRef(xi, w.v, T, D, D), T, N, H), k };
  }

  it('prefill + decode into one in-place buffer equals the reference', async () => {
    const bytes = build();
    await maybeDumpModel('gqa_rope', bytes);
    const s = await createSession(bytes, { checkSymbolicDims: false });
    const kBuf = new Float32Array(B * N * MAX * H);
    const vBuf = new Float32Array(B * N * MAX * H);
    const kT = new ort.Tensor('float32', kBuf, [B, N, MAX, H]);
    const vT = new ort.Tensor('float32', vBuf, [B, N, MAX, H]);
    const rows = (a: number, z: number) => {
      const out = new Float32Array(B * (z - a) * D);
      for (let i = 0; i < B; i++) out.set(xs.subarray((i * T + a) * D, (i * T + z) * D), i * (z - a) * D);
      return tensorF32(out, [B, z - a, D]);
    };
    const step = (a: number, z: number) =>
      s.run(
        {
          x: rows(a, z),
          past_key: kT,
          past_value: vT,
          seqlens_k: tensorI32(new Int32Array(B).fill(z - 1), [B]),
          total_sequence_length: tensorI32([z], []),
        },
        { out: null, present_key: kT, present_value: vT },
      );
    const outs = [asF32((await step(0, PREFILL)).out!)];
    for (let t = PREFILL; t < T; t++) outs.push(asF32((await step(t, t + 1)).out!));

    for (let i = 0; i < B; i++) {
      const ref = reference(i);
      const got = new Float32Array(T * D);
      got.set(outs[0]!.subarray(i * PREFILL * D, (i + 1) * PREFILL * D));
      for (let t = PREFILL; t < T; t++) got.set(outs[t - PREFILL + 1]!.subarray(i * D, (i + 1) * D), t * D);
      expect(maxAbsDiff(got, ref.out)).toBeLessThan(1e-5);
      // Buffer layout [B, N, MAX, H]: rotated key of position t, head n sits at ((i·N + n)·MAX + t)·H.
      for (let n = 0; n < N; n++) {
        for (let t = 0; t < T; t++) {
          const at = ((i * N + n) * MAX + t) * H;
          expect(
            maxAbsDiff(kBuf.subarray(at, at + H), ref.k.subarray(t * D + n * H, t * D + (n + 1) * H)),
          ).toBeLessThan(1e-5);
        }
      }
    }
  });
});
