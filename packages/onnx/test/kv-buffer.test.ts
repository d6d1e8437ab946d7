// KvCacheBuffer: rows land at [b, n, length + j, :] in both buffers, the tensors are views of the
// buffers (ORT reads what was appended, without a copy), and sizes/capacity are checked.
import { describe, expect, it } from 'vitest';
import { createSession, GraphBuilder, KvCacheBuffer } from '../src/index.js';

describe('KvCacheBuffer', () => {
  it('appends rows at [b, n, length + j, :] in chunks of any length', () => {
    const c = new KvCacheBuffer({ batch: 2, heads: 3, headDim: 4, maxLength: 5 });
    const rows = (t: number, base: number) =>
      Float32Array.from({ length: 2 * 3 * t * 4 }, (_, i) => base + i);
    c.append(rows(2, 0), rows(2, 1000), 2);
    c.append(rows(1, 500), rows(1, 1500), 1);
    expect(c.length).toBe(3);
    expect(c.lengthTensor().data).toEqual(BigInt64Array.of(3n));
    for (let bn = 0; bn < 6; bn++)
      for (let j = 0; j < 5; j++)
        for (let d = 0; d < 4; d++) {
          // rows(t, base) is [B, N, t, H] row-major: element (bn, j, d) = base + (bn·t + j)·H + d.
          const want = j < 2 ? (bn * 2 + j) * 4 + d : j === 2 ? 500 + bn * 4 + d : 0;
          expect(c.key[(bn * 5 + j) * 4 + d]).toBe(want);
          expect(c.value[(bn * 5 + j) * 4 + d]).toBe(j < 3 ? want + 1000 : 0);
        }
    expect(c.keyTensor.dims).toEqual([2, 3, 5, 4]);
    expect(c.valueTensor.dims).toEqual([2, 3, 5, 4]);
  });

  it('ORT reads the appended rows through keyTensor / valueTensor without a copy', async () => {
    const b = new GraphBuilder({ name: 'kv_sum' });
    const k = b.input('key_cache', 'float32', ['B', 'N', 'M', 'H']);
    const v = b.input('value_cache', 'float32', ['B', 'N', 'M', 'H']);
    b.output('sum', 'float32', [], b.op('ReduceSum', [b.sub(k, v)], { keepdims: 0 }));
    const s = await createSession(b.toBytes());
    const c = new KvCacheBuffer({ batch: 1, heads: 2, headDim: 2, maxLength: 3 });
    const feeds = { key_cache: c.keyTensor, value_cache: c.valueTensor };
    expect((await s.run(feeds)).sum!.data[0]).toBe(0);
    c.append(Float32Array.of(1, 2, 3, 4), Float32Array.of(0.5, 0.5, 0.5, 0.5), 1);
    expect((await s.run(feeds)).sum!.data[0]).toBe(8); // same tensor objects, new contents
  });

  it('append checks sizes and capacity', () => {
    const c = new KvCacheBuffer({ batch: 1, heads: 1, headDim: 2, maxLength: 2 });
    expect(() => c.append(new Float32Array(3), new Float32Array(2), 1)).toThrow(
      'KvCacheBuffer.append: expected 2 elements ([1,1,1,2]), got key 3, value 2',
    );
    c.append(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2);
    expect(Array.from(c.key)).toEqual([1, 2, 3, 4]);
    expect(Array.from(c.value)).toEqual([5, 6, 7, 8]);
    expect(() => c.append(Float32Array.of(1, 2), Float32Array.of(1, 2), 1)).toThrow(
      'KvCacheBuffer.append: 2 + 1 positions exceed maxLength 2',
    );
  });
});
