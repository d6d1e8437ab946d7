// Model-level features: metadata_props and opset imports survive a decode with onnx-proto,
// external data files load in ORT from a path, and builder misuse fails with named errors.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asF32,
  createSession,
  float,
  GraphBuilder,
  maybeDumpModel,
  tensorAttr,
  tensorF32,
} from '../src/index.js';
import { matmulRef, maxAbsDiff, randn } from './reference.js';

const { onnx } = onnxProto;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-onnx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('metadata and opsets', () => {
  it('metadata_props round-trip through onnx-proto decode; contrib use adds the com.microsoft import', async () => {
    const b = new GraphBuilder({ name: 'meta' });
    const x = b.input('x', 'float32', ['B', 4]);
    b.output('y', 'float32', ['B', 4], b.relu(x));
    b.metadata('engram.manifest', JSON.stringify({ vocab: 512, layers: [1, 2] }));
    b.metadata('producer.step', '1200');
    b.metadata('producer.step', '1300');
    const plain = onnx.ModelProto.decode(b.toBytes());
    expect(plain.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(plain.metadataProps.map((p) => [p.key, p.value])).toEqual([
      ['engram.manifest', '{"vocab":512,"layers":[1,2]}'],
      ['producer.step', '1300'],
    ]);
    expect(Number(plain.irVersion)).toBe(8);
    const dims = plain.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['B', 4]);

    const g = new Float32Array(4).fill(1);
    const skip = b.input('skip', 'float32', ['B', 4]);
    b.output('z', 'float32', ['B', 4], b.skipRmsNorm(x, skip, b.init('g', g, [4]), 1e-6).output);
    const bytes = b.toBytes();
    await maybeDumpModel('metadata', bytes);
    const withContrib = onnx.ModelProto.decode(bytes);
    expect(withContrib.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      ['com.microsoft', 1],
    ]);
  });

  it('attributes are typed: integral numbers are INT unless the attribute is a float one', async () => {
    const b = new GraphBuilder({ name: 'attrs' });
    const x = b.input('x', 'float32', [3]);
    const c = b.op('Constant', [], { value: tensorAttr(Float32Array.of(1, 2, 3), [3]) });
    const y = b.op('LeakyRelu', [b.sub(x, c)], { alpha: 2 });
    b.output('y', 'float32', [3], b.op('Celu', [y], { alpha: float(1) }));
    const bytes = b.toBytes();
    await maybeDumpModel('attrs', bytes);
    const attrs = onnx.ModelProto.decode(bytes).graph!.node!.map((n) =>
      n.attribute!.map((a) => [a.name, a.type]),
    );
    const T = onnx.AttributeProto.AttributeType;
    expect(attrs).toEqual([[['value', T.TENSOR]], [], [['alpha', T.FLOAT]], [['alpha', T.FLOAT]]]);
    const r = await (await createSession(bytes)).run({ x: tensorF32([0, 5, 0], [3]) });
    // LeakyRelu(x - c) with alpha 2 → [-2, 3, -6]; Celu(alpha 1) = max(0,v) + min(0, exp(v) - 1).
    const celu = (v: number) => Math.max(0, v) + Math.min(0, Math.exp(v) - 1);
    expect(maxAbsDiff(asF32(r.y!), [-2, 3, -6].map(celu))).toBeLessThan(1e-6);
  });
});

describe('external data', () => {
  const rng = new Rng('external');
  const [k, n] = [64, 40];
  const big = randn(rng, k * n);
  const small = randn(rng, n);
  function build(): GraphBuilder {
    const b = new GraphBuilder({ name: 'external' });
    const x = b.input('x', 'float32', ['B', k]);
    b.output(
      'y',
      'float32',
      ['B', n],
      b.add(b.matmul(x, b.init('w', big, [k, n])), b.init('bias', small, [n])),
    );
    return b;
  }
  const a = randn(rng, 3 * k);
  const want = matmulRef(a, big, 3, k, n).map((v, i) => v + small[i % n]!);

  it('save() moves initialisers over the threshold to an aligned data file ORT loads by path', async () => {
    const path = join(dir, 'ext.onnx');
    await build().save(path, { externalData: { thresholdBytes: 1024 } });
    const proto = onnx.ModelProto.decode(await readFile(path));
    const [w, bias] = proto.graph!.initializer!;
    expect(w!.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(Object.fromEntries(w!.externalData!.map((e) => [e.key, e.value]))).toEqual({
      location: 'ext.onnx.data',
      offset: '0',
      length: String(k * n * 4),
    });
    expect(w!.rawData?.length ?? 0).toBe(0);
    expect(bias!.dataLocation).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    expect((await stat(join(dir, 'ext.onnx.data'))).size).toBe(k * n * 4);
    await maybeDumpModel('external', path);
    const r = await (await createSession(path)).run({ x: tensorF32(a, [3, k]) });
    expect(maxAbsDiff(asF32(r.y!), want)).toBeLessThan(1e-4);
  });

  it('toBytes({ externalData }) writes the data file and aligns every tensor', async () => {
    const b = build();
    const second = randn(rng, 300);
    b.init('unused_but_big', second, [300]);
    const dataPath = join(dir, 'tb.onnx.bin');
    const bytes = b.toBytes({ externalData: { path: dataPath, thresholdBytes: 1000, align: 4096 } });
    await writeFile(join(dir, 'tb.onnx'), bytes);
    const inits = onnx.ModelProto.decode(bytes).graph!.initializer!;
    const offsets = inits
      .filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
      .map((t) => Number(t.externalData!.find((e) => e.key === 'offset')!.value));
    expect(offsets).toEqual([0, 4096 * Math.ceil((k * n * 4) / 4096)]);
    const file = await readFile(dataPath);
    expect(
      new Float32Array(file.buffer.slice(file.byteOffset + offsets[1]!, file.byteOffset + file.byteLength)),
    ).toEqual(second);
    // encode() gives the same file as one buffer and as chunks (tensors plus zero padding).
    const { data, dataChunks } = b.encode({
      externalData: { location: 'tb.onnx.bin', thresholdBytes: 1000 },
    });
    expect(Buffer.from(data!).equals(file)).toBe(true);
    expect(Buffer.concat(dataChunks!).equals(file)).toBe(true);
    expect(dataChunks!.map((c) => c.byteLength)).toEqual([k * n * 4, offsets[1]! - k * n * 4, 300 * 4]);
    await maybeDumpModel('external_tobytes', join(dir, 'tb.onnx'));
    const r = await (await createSession(join(dir, 'tb.onnx'))).run({ x: tensorF32(a, [3, k]) });
    expect(maxAbsDiff(asF32(r.y!), want)).toBeLessThan(1e-4);
  });
});

describe('builder errors name the value', () => {
  it('unknown inputs, duplicate names, bad initialiser dims and missing outputs', () => {
    const b = new GraphBuilder({ name: 'errs' });
    const x = b.input('x', 'float32', [2]);
    expect(() => b.add(x, 'nope')).toThrow(/Add node input: unknown value 'nope' in graph 'errs'/);
    expect(() => b.input('x', 'float32', [2])).toThrow(/input 'x': name already used/);
    expect(() => b.init('w', new Float32Array(5), [2, 3])).toThrow(
      /initializer 'w': dims \[2,3\] hold 6 elements but data has 5/,
    );
    expect(() => b.init('u', new Uint8Array(2), [2], { type: 'float32' })).toThrow(
      /Uint8Array cannot hold type 'float32'/,
    );
    expect(() => b.output('y', 'float32', [2])).toThrow(/output 'y': unknown value 'y'/);
  });

  it('initialisers of every element type reach ORT with their values (float16 bits, bool, int8, int32)', async () => {
    const b = new GraphBuilder({ name: 'dtypes' });
    const f16 = b.init('f16', Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x7bff), [4]); // 1, -2, 0.5, 65504
    const flags = b.init('flags', Uint8Array.of(1, 0, 0, 1), [4], { type: 'bool' });
    const i8 = b.init('i8', Int8Array.of(-128, -1, 0, 127), [4]);
    const i32 = b.init('i32', Int32Array.of(-(2 ** 31), 7, 0, 2 ** 31 - 1), [4]);
    const u8 = b.init('u8', Uint8Array.of(0, 1, 128, 255), [4]);
    const x = b.input('x', 'float32', [4]);
    const parts = [f16, flags, i8, i32, u8].map((t) => b.cast(t, 'float32'));
    b.output(
      'y',
      'float32',
      [5, 4],
      b.add(
        b.concat(
          parts.map((p) => b.unsqueeze(p, [0])),
          0,
        ),
        x,
      ),
    );
    const bytes = b.toBytes();
    await maybeDumpModel('dtypes', bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32([0, 0, 0, 0], [4]) });
    expect(Array.from(asF32(r.y!))).toEqual([
      1,
      -2,
      0.5,
      65504,
      1,
      0,
      0,
      1,
      -128,
      -1,
      0,
      127,
      -(2 ** 31),
      7,
      0,
      Math.fround(2 ** 31 - 1), // float32 rounds it to 2^31
      0,
      1,
      128,
      255,
    ]);
  });

  it('equal scalars and int64 lists share one initialiser', () => {
    const b = new GraphBuilder({ name: 'shared' });
    const x = b.input('x', 'float32', [2, 3]);
    expect(b.scalar(0.5)).toBe(b.scalar(0.5));
    expect(b.scalar(1, 'int64')).not.toBe(b.scalar(1));
    expect(b.int64s([3, 2])).toBe(b.int64s([3, 2]));
    b.output('y', 'float32', [3, 2], b.reshape(b.reshape(b.reshape(x, [3, 2]), [2, 3]), [3, 2]));
    const inits = onnx.ModelProto.decode(b.toBytes()).graph!.initializer!.map((t) => t.name);
    expect(new Set(inits).size).toBe(inits.length);
    expect(inits).toHaveLength(5);
  });

  it('a renamed node output stays usable under its old name', async () => {
    const b = new GraphBuilder({ name: 'alias' });
    const x = b.input('x', 'float32', [2]);
    const h = b.relu(x);
    b.output('hidden', 'float32', [2], h);
    b.output('twice', 'float32', [2], b.add(h, h));
    b.output('passthrough', 'float32', [2], x);
    const bytes = b.toBytes();
    await maybeDumpModel('alias', bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32([-1, 3], [2]) });
    expect(Array.from(asF32(r.hidden!))).toEqual([0, 3]);
    expect(Array.from(asF32(r.twice!))).toEqual([0, 6]);
    expect(Array.from(asF32(r.passthrough!))).toEqual([-1, 3]);
  });
});
