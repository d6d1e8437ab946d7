// Single-head causal self-attention with a KV cache, two ways: plain ai.onnx ops (mask built from
// runtime shapes) and com.microsoft MultiHeadAttention. Prefill (T > 1) then decode (T = 1) with
// past → present must equal a full recompute and the TS reference.
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  GraphBuilder,
  maybeDumpModel,
  type ort,
  type Session,
  tensorF32,
} from '../src/index.js';
import { causalAttentionRef, matmulRef, maxAbsDiff, randn } from './reference.js';

const D = 8;
const B = 2;
const TOTAL = 7;
const PREFILL = 5;

interface Weights {
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
}

/** x [B,T,D] → q,k,v projections; cache layout [B,S,D] (decomposed) or [B,1,S,D] (MHA). */
function buildAttention(w: Weights, kind: 'decomposed' | 'mha'): Uint8Array {
  const b = new GraphBuilder({ name: `attention_${kind}` });
  const cache = kind === 'mha' ? ['B', 1, 'P', D] : ['B', 'P', D];
  const present = kind === 'mha' ? ['B', 1, 'S', D] : ['B', 'S', D];
  const x = b.input('x', 'float32', ['B', 'T', D]);
  const pastK = b.input('past_key', 'float32', cache);
  const pastV = b.input('past_value', 'float32', cache);
  const q = b.matmul(x, b.init('wq', w.wq, [D, D]));
  const k = b.matmul(x, b.init('wk', w.wk, [D, D]));
  const v = b.matmul(x, b.init('wv', w.wv, [D, D]));
  if (kind === 'mha') {
    const [out, pk, pv] = b.contrib(
      'MultiHeadAttention',
      [q, k, v, '', '', '', pastK, pastV],
      { num_heads: 1, unidirectional: 1 },
      { outputs: 3 },
    );
    b.output('out', 'float32', ['B', 'T', D], out);
    b.output('present_key', 'float32', present, pk);
    b.output('present_value', 'float32', present, pv);
    return b.toBytes();
  }
  const kAll = b.concat([pastK, k], 1);
  const vAll = b.concat([pastV, v], 1);
  const scores = b.mul(b.matmul(q, b.transpose(kAll, [0, 2, 1])), b.scalar(1 / Math.sqrt(D))); // [B,T,S]
  // Query row i sits at absolute position P + i and may see keys j <= P + i.
  const s = b.dim(kAll, 1);
  const t = b.dim(q, 1);
  const cols = b.op('Range', [b.scalar(0, 'int64'), s, b.scalar(1, 'int64')]);
  const rows = b.unsqueeze(b.op('Range', [b.sub(s, t), s, b.scalar(1, 'int64')]), [1]);
  const allowed = b.op('LessOrEqual', [cols, rows]); // [T,S]
  const masked = b.where(allowed, scores, b.scalar(Number.NEGATIVE_INFINITY));
  b.output('out', 'float32', ['B', 'T', D], b.matmul(b.softmax(masked), vAll));
  b.output('present_key', 'float32', present, kAll);
  b.output('present_value', 'float32', present, vAll);
  return b.toBytes();
}

/** Rows [from, to) of every batch item of x [B, TOTAL, D] as a [B, to-from, D] tensor. */
function rowsOf(x: Float32Array, from: number, to: number): ort.Tensor {
  const out = new Float32Array(B * (to - from) * D);
  for (let i = 0; i < B; i++)
    out.set(x.subarray((i * TOTAL + from) * D, (i * TOTAL + to) * D), i * (to - from) * D);
  return tensorF32(out, [B, to - from, D]);
}

async function run(s: Session, x: ort.Tensor, pastK: ort.Tensor, pastV: ort.Tensor) {
  return s.run({ x, past_key: pastK, past_value: pastV });
}

describe.each(['decomposed', 'mha'] as const)('causal attention with KV cache (%s)', (kind) => {
  const rng = new Rng(`attention-${kind}`);
  const w: Weights = { wq: randn(rng, D * D, 0.5), wk: randn(rng, D * D, 0.5), wv: randn(rng, D * D, 0.5) };
  const x = randn(rng, B * TOTAL * D);
  const cacheDims = (p: number) => (kind === 'mha' ? [B, 1, p, D] : [B, p, D]);
  const empty = () => tensorF32(new Float32Array(0), cacheDims(0));

  it('full pass matches the TS reference per batch item', async () => {
    const bytes = buildAttention(w, kind);
    await maybeDumpModel(`attention_${kind}`, bytes);
    const s = await createSession(bytes);
    const r = await run(s, rowsOf(x, 0, TOTAL), empty(), empty());
    expect(r.out!.dims).toEqual([B, TOTAL, D]);
    expect(r.present_key!.dims).toEqual(cacheDims(TOTAL));
    for (let i = 0; i < B; i++) {
      const xi = x.subarray(i * TOTAL * D, (i + 1) * TOTAL * D);
      const ref = causalAttentionRef(
        matmulRef(xi, w.wq, TOTAL, D, D),
        matmulRef(xi, w.wk, TOTAL, D, D),
        matmulRef(xi, w.wv, TOTAL, D, D),
        TOTAL,
        D,
      );
      expect(maxAbsDiff(asF32(r.out!).subarray(i * TOTAL * D, (i + 1) * TOTAL * D), ref)).toBeLessThan(1e-5);
      const kRef = matmulRef(xi, w.wk, TOTAL, D, D);
      expect(
        maxAbsDiff(asF32(r.present_key!).subarray(i * TOTAL * D, (i + 1) * TOTAL * D), kRef),
      ).toBeLessThan(1e-5);
    }
  });

  it('prefill then step-by-step decode equals the full recompute', async () => {
    const s = await createSession(buildAttention(w, kind));
    const full = asF32((await run(s, rowsOf(x, 0, TOTAL), empty(), empty())).out!);
    const pre = await run(s, rowsOf(x, 0, PREFILL), empty(), empty());
    const got = [pre.out!];
    let past = pre;
    for (let t = PREFILL; t < TOTAL; t++) {
      past = await run(s, rowsOf(x, t, t + 1), past.present_key!, past.present_value!);
      expect(past.present_key!.dims).toEqual(cacheDims(t + 1));
      got.push(past.out!);
    }
    // Reassemble [B, TOTAL, D] from the prefill block and the decode rows.
    const stitched = new Float32Array(B * TOTAL * D);
    for (let i = 0; i < B; i++) {
      stitched.set(asF32(got[0]!).subarray(i * PREFILL * D, (i + 1) * PREFILL * D), i * TOTAL * D);
      for (let t = PREFILL; t < TOTAL; t++) {
        stitched.set(asF32(got[t - PREFILL + 1]!).subarray(i * D, (i + 1) * D), (i * TOTAL + t) * D);
      }
    }
    expect(maxAbsDiff(stitched, full)).toBeLessThan(1e-5);
  });
});
