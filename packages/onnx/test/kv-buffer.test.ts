// cachedAttention over a host KvCacheBuffer: prefill then decode steps, each returning only the
// new K/V rows, must equal the multi-head causal reference; the buffers hold keys transposed.
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  GraphBuilder,
  KvCacheBuffer,
  maybeDumpModel,
  tensorF32,
} from '../src/index.js';
import { matmulRef, maxAbsDiff, multiHeadCausalRef, randn } from './reference.js';

const N = 2;
const H = 4;
const D = N * H;
const B = 2;
const T = 7;
const MAX = 10;

describe('cachedAttention + KvCacheBuffer', () => {
  const rng = new Rng('kv-buffer');
  const w = { q: randn(rng, D * D, 0.5), k: randn(rng, D * D, 0.5), v: randn(rng, D * D, 0.5) };
  const xs = randn(rng, B * T * D);

  function build(): Uint8Array {
    const b = new GraphBuilder({ name: 'cached_attention' });
    const x = b.input('x', 'float32', ['B', 'T', D]);
    const r = b.cachedAttention(
      b.matmul(x, b.init('wq', w.q, [D, D])),
      b.matmul(x, b.init('wk', w.k, [D, D])),
      b.matmul(x, b.init('wv', w.v, [D, D])),
      {
        numHeads: N,
        headDim: H,
        keyCache: b.input('key_cache', 'float32', ['B', N, H, 'M']),
        valueCache: b.input('value_cache', 'float32', ['B', N, 'M', H]),
        pastLength: b.input('past_length', 'int64', []),
      },
    );
    b.output('out', 'float32', ['B', 'T', D], r.output);
    b.output('new_key', 'float32', ['B', N, 'T', H], r.newKey);
    b.output('new_value', 'float32', ['B', N, 'T', H], r.newValue);
    return b.toBytes();
  }

  it.each([
    [[4, 1, 1, 1], 'prefill 4 then 3 decode steps'],
    [[1, 1, 1, 1, 1, 1, 1], 'decode from an empty cache'],
    [[3, 4], 'two multi-row chunks'],
  ])('chunks %j (%s) equal the reference', async (chunks) => {
    const bytes = build();
    await maybeDumpModel('cached_attention', bytes);
    const s = await createSession(bytes);
    const cache = new KvCacheBuffer({ batch: B, heads: N, headDim: H, maxLength: MAX });
    cache.key.fill(Number.NaN); // stale slots must be masked out, never read into the output
    cache.value.fill(1e6);
    const got = new Float32Array(B * T * D);
    let at = 0;
    for (const t of chunks) {
      const x = new Float32Array(B * t * D);
      for (let i = 0; i < B; i++) x.set(xs.subarray((i * T + at) * D, (i * T + at + t) * D), i * t * D);
      const r = await s.run({
        x: tensorF32(x, [B, t, D]),
        key_cache: cache.keyTensor,
        value_cache: cache.valueTensor,
        past_length: cache.lengthTensor(),
      });
      expect(r.new_key!.dims).toEqual([B, N, t, H]);
      cache.append(asF32(r.new_key!), asF32(r.new_value!), t);
      const out = asF32(r.out!);
      for (let i = 0; i < B; i++) got.set(out.subarray(i * t * D, (i + 1) * t * D), (i * T + at) * D);
      at += t;
    }
    expect(cache.length).toBe(T);
    for (let i = 0; i < B; i++) {
      const xi = xs.subarray(i * T * D, (i + 1) * T * D);
      const k = matmulRef(xi, w.k, T, D, D);
      const ref = multiHeadCausalRef(matmulRef(xi, w.q, T, D, D), k, matmulRef(xi, w.v, T, D, D), T, N, H);
      expect(maxAbsDiff(got.subarray(i * T * D, (i + 1) * T * D), ref)).toBeLessThan(1e-5);
      // key buffer [B, N, H, M]: channel c of head n at position t.
      for (let n = 0; n < N; n++)
        for (let t = 0; t < T; t++)
          for (let c = 0; c < H; c++) {
            expect(cache.key[((i * N + n) * H + c) * MAX + t]).toBeCloseTo(k[t * D + n * H + c]!, 5);
          }
    }
  });

  it('append checks sizes and capacity, reset reuses the buffers', () => {
    const cache = new KvCacheBuffer({ batch: 1, heads: 1, headDim: 2, maxLength: 2 });
    expect(() => cache.append(new Float32Array(3), new Float32Array(2), 1)).toThrow(
      'KvCacheBuffer.append: expected 2 elements ([1,1,1,2]), got key 3, value 2',
    );
    cache.append(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2);
    expect(Array.from(cache.key)).toEqual([1, 3, 2, 4]);
    expect(Array.from(cache.value)).toEqual([5, 6, 7, 8]);
    expect(() => cache.append(Float32Array.of(1, 2), Float32Array.of(1, 2), 1)).toThrow(
      'KvCacheBuffer.append: 2 + 1 positions exceed maxLength 2',
    );
    cache.reset();
    expect(cache.length).toBe(0);
    expect(cache.lengthTensor().data).toEqual(BigInt64Array.of(0n));
  });
});
