// Session.run rejects bad feeds before ORT sees them, naming the input and expected vs got.
import { describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  GraphBuilder,
  maybeDumpModel,
  ort,
  tensorBool,
  tensorF32,
  tensorI32,
  tensorI64,
} from '../src/index.js';

async function model() {
  const b = new GraphBuilder({ name: 'feeds' });
  const x = b.input('x', 'float32', ['B', 'T', 4]);
  const ids = b.input('ids', 'int64', ['B', 'T']);
  b.output('y', 'float32', ['B', 'T', 4], b.add(x, b.unsqueeze(b.cast(ids, 'float32'), [2])));
  const bytes = b.toBytes();
  await maybeDumpModel('feeds', bytes);
  return createSession(bytes, { intraOpNumThreads: 1 });
}

const x = () => tensorF32(new Float32Array(2 * 3 * 4), [2, 3, 4]);
const ids = () => tensorI64([1, 2, 3, 4, 5, 6], [2, 3]);

describe('Session', () => {
  it('exposes input specs with symbolic and static dims', async () => {
    const s = await model();
    expect(s.inputNames).toEqual(['x', 'ids']);
    expect(s.outputNames).toEqual(['y']);
    expect(s.inputs).toEqual([
      { name: 'x', type: 'float32', dims: ['B', 'T', 4] },
      { name: 'ids', type: 'int64', dims: ['B', 'T'] },
    ]);
  });

  it('runs valid feeds, plain { type, data, dims } included, and limits fetches', async () => {
    const s = await model();
    const r = await s.run(
      { x: { type: 'float32', data: new Float32Array(24).fill(0.5), dims: [2, 3, 4] }, ids: ids() },
      ['y'],
    );
    const y = asF32(r.y!);
    expect(y[0]).toBe(1.5);
    expect(y[23]).toBe(6.5);
    await expect(s.run({ x: x(), ids: ids() }, ['logits'])).rejects.toThrow(
      "unknown fetch 'logits'; model outputs: y",
    );
  });

  it('lists missing and unknown inputs by name', async () => {
    const s = await model();
    await expect(s.run({ x: x(), input_ids: ids() })).rejects.toThrow(
      "missing input 'ids'; unknown input 'input_ids' (model inputs: x, ids)",
    );
  });

  it('names the input on a dtype mismatch', async () => {
    const s = await model();
    await expect(s.run({ x: x(), ids: tensorI32([1, 2, 3, 4, 5, 6], [2, 3]) })).rejects.toThrow(
      "input 'ids': expected dtype int64, got int32 [2,3]",
    );
    await expect(s.run({ x: tensorBool(new Uint8Array(24), [2, 3, 4]), ids: ids() })).rejects.toThrow(
      "input 'x': expected dtype float32, got bool [2,3,4]",
    );
  });

  it('names the input on a rank or static-dim mismatch', async () => {
    const s = await model();
    await expect(s.run({ x: tensorF32(new Float32Array(24), [6, 4]), ids: ids() })).rejects.toThrow(
      "input 'x': expected rank 3 [B,T,4], got rank 2 [6,4]",
    );
    await expect(s.run({ x: tensorF32(new Float32Array(18), [2, 3, 3]), ids: ids() })).rejects.toThrow(
      "input 'x': expected dim 2 = 4 [B,T,4], got 3 [2,3,3]",
    );
  });

  it('names both inputs when a symbolic dim gets two sizes', async () => {
    const s = await model();
    await expect(s.run({ x: x(), ids: tensorI64([1, 2, 3, 4], [2, 2]) })).rejects.toThrow(
      "input 'ids': symbolic dim 'T' (axis 1) is 2, but input 'x' set it to 3",
    );
  });

  it('unknown (null) dims accept any size but still fix the rank', async () => {
    const b = new GraphBuilder({ name: 'nulldim' });
    b.output('y', 'float32', [null, 4], b.relu(b.input('x', 'float32', [null, 4])));
    const s = await createSession(b.toBytes());
    expect(s.inputs).toEqual([{ name: 'x', type: 'float32', dims: [null, 4] }]);
    expect((await s.run({ x: tensorF32(new Float32Array(12), [3, 4]) })).y!.dims).toEqual([3, 4]);
    await expect(s.run({ x: tensorF32(new Float32Array(4), [4]) })).rejects.toThrow(
      "input 'x': expected rank 2 [?,4], got rank 1 [4]",
    );
  });

  it('rejects a plain feed whose data does not fill its dims', async () => {
    const s = await model();
    await expect(
      s.run({ x: { type: 'float32', data: new Float32Array(5), dims: [2, 3, 4] }, ids: ids() }),
    ).rejects.toThrow("input 'x': dims [2,3,4] need 24 elements, data has 5");
  });

  it('typed feed helpers convert and check element counts', () => {
    const t = tensorI64(Int32Array.of(-3, 7), [2]);
    expect(t.type).toBe('int64');
    expect(Array.from(t.data as BigInt64Array)).toEqual([-3n, 7n]);
    expect(() => tensorF32([1, 2, 3], [2, 2])).toThrow('dims [2,2] need 4 elements, data has 3');
    expect(() => tensorI64([0.5], [1])).toThrow('tensorI64: element 0 is 0.5');
    expect(tensorF32([1, 2], [2])).toBeInstanceOf(ort.Tensor);
  });
});
