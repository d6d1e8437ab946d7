import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { asF32, createSession, GraphBuilder, maybeDumpModel, tensorF32, tensorI64 } from '../src/index.js';
import { layerNormRef, matmulRef, maxAbsDiff, randn, rmsNormRef, softmaxRef } from './reference.js';

describe('ops vs TS references', () => {
  it('MatMul with a weight initialiser matches a float64 reference over random shapes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (m, k, n, seed) => {
          const rng = new Rng(seed);
          const a = randn(rng, m * k);
          const w = randn(rng, k * n);
          const b = new GraphBuilder({ name: 'matmul' });
          const x = b.input('x', 'float32', ['M', k]);
          b.output('y', 'float32', ['M', n], b.matmul(x, b.init('w', w, [k, n])));
          const bytes = b.toBytes();
          await maybeDumpModel(`matmul_${m}x${k}x${n}`, bytes);
          const s = await createSession(bytes, { intraOpNumThreads: 1 });
          const r = await s.run({ x: tensorF32(a, [m, k]) });
          expect(r.y!.dims).toEqual([m, n]);
          expect(maxAbsDiff(asF32(r.y!), matmulRef(a, w, m, k, n))).toBeLessThan(1e-4);
          await s.release();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('Gather (embedding lookup) returns the indexed rows, int64 indices of any rank', async () => {
    const rng = new Rng('gather');
    const [vocab, d] = [11, 5];
    const table = randn(rng, vocab * d);
    const b = new GraphBuilder({ name: 'gather' });
    const ids = b.input('ids', 'int64', ['B', 'T']);
    b.output('emb', 'float32', ['B', 'T', d], b.gather(b.init('table', table, [vocab, d]), ids));
    const bytes = b.toBytes();
    await maybeDumpModel('gather', bytes);
    const s = await createSession(bytes);
    const idx = [3, 0, 10, 7, 7, 1];
    const r = await s.run({ ids: tensorI64(idx, [2, 3]) });
    expect(r.emb!.dims).toEqual([2, 3, d]);
    const want = new Float32Array(idx.flatMap((i) => Array.from(table.subarray(i * d, (i + 1) * d))));
    expect(asF32(r.emb!)).toEqual(want);
  });

  it('LayerNormalization (opset 17) matches the reference', async () => {
    const rng = new Rng('ln');
    const d = 24;
    const x = randn(rng, 3 * 4 * d, 3);
    const g = randn(rng, d);
    const beta = randn(rng, d);
    const b = new GraphBuilder({ name: 'layernorm' });
    const xi = b.input('x', 'float32', ['B', 'T', d]);
    b.output(
      'y',
      'float32',
      ['B', 'T', d],
      b.layerNorm(xi, b.init('g', g, [d]), b.init('b', beta, [d]), 1e-5),
    );
    const bytes = b.toBytes();
    await maybeDumpModel('layernorm', bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32(x, [3, 4, d]) });
    expect(maxAbsDiff(asF32(r.y!), layerNormRef(x, d, g, beta, 1e-5))).toBeLessThan(1e-5);
  });

  it.each([
    ['decomposed', 'rmsnorm_decomposed'],
    ['ort', 'rmsnorm_ort'],
  ] as const)('RMSNorm (%s) matches the reference', async (mode, file) => {
    const rng = new Rng(`rms-${mode}`);
    const d = 32;
    const x = randn(rng, 2 * 5 * d, 2);
    const g = randn(rng, d);
    const b = new GraphBuilder({ name: file });
    const xi = b.input('x', 'float32', ['B', 'T', d]);
    b.output('y', 'float32', ['B', 'T', d], b.rmsNorm(xi, b.init('g', g, [d]), 1e-6, mode));
    const bytes = b.toBytes();
    // SimplifiedLayerNormalization is an ORT op in the ai.onnx domain: the ONNX checker rejects it.
    if (mode === 'decomposed') await maybeDumpModel(file, bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32(x, [2, 5, d]) });
    expect(maxAbsDiff(asF32(r.y!), rmsNormRef(x, d, g, 1e-6))).toBeLessThan(1e-5);
  });

  it('SkipSimplifiedLayerNormalization (com.microsoft) returns rmsNorm(x + skip) and the sum', async () => {
    const rng = new Rng('skip-rms');
    const d = 16;
    const x = randn(rng, 3 * d);
    const skip = randn(rng, 3 * d);
    const g = randn(rng, d);
    const b = new GraphBuilder({ name: 'skip_rmsnorm' });
    const xi = b.input('x', 'float32', ['B', 'T', d]);
    const si = b.input('skip', 'float32', ['B', 'T', d]);
    const { output, sum } = b.skipRmsNorm(xi, si, b.init('g', g, [d]), 1e-6);
    b.output('y', 'float32', ['B', 'T', d], output);
    b.output('sum', 'float32', ['B', 'T', d], sum);
    const bytes = b.toBytes();
    await maybeDumpModel('skip_rmsnorm', bytes);
    const r = await (await createSession(bytes)).run({
      x: tensorF32(x, [1, 3, d]),
      skip: tensorF32(skip, [1, 3, d]),
    });
    const s = x.map((v, i) => v + skip[i]!);
    expect(maxAbsDiff(asF32(r.sum!), s)).toBeLessThan(1e-6);
    expect(maxAbsDiff(asF32(r.y!), rmsNormRef(s, d, g, 1e-6))).toBeLessThan(1e-5);
  });

  it('Softmax over the last axis matches the reference (large logits stay finite)', async () => {
    const rng = new Rng('softmax');
    const d = 13;
    const x = randn(rng, 6 * d, 30);
    const b = new GraphBuilder({ name: 'softmax' });
    b.output('p', 'float32', ['N', d], b.softmax(b.input('x', 'float32', ['N', d])));
    const bytes = b.toBytes();
    await maybeDumpModel('softmax', bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32(x, [6, d]) });
    expect(maxAbsDiff(asF32(r.p!), softmaxRef(x, d))).toBeLessThan(1e-6);
  });

  it('Concat along a middle axis interleaves blocks like the reference', async () => {
    const a = Float32Array.from({ length: 2 * 1 * 3 }, (_, i) => i);
    const c = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => 100 + i);
    const b = new GraphBuilder({ name: 'concat' });
    const ai = b.input('a', 'float32', [2, 'P', 3]);
    const ci = b.input('c', 'float32', [2, 'T', 3]);
    b.output('y', 'float32', [2, 'S', 3], b.concat([ai, ci], 1));
    const bytes = b.toBytes();
    await maybeDumpModel('concat', bytes);
    const r = await (await createSession(bytes)).run({
      a: tensorF32(a, [2, 1, 3]),
      c: tensorF32(c, [2, 2, 3]),
    });
    expect(r.y!.dims).toEqual([2, 3, 3]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) want.push(...a.subarray(i * 3, i * 3 + 3), ...c.subarray(i * 6, i * 6 + 6));
    expect(Array.from(asF32(r.y!))).toEqual(want);
  });

  it('reshape, transpose, slice, unsqueeze, gelu and silu helpers match closed forms', async () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => (i - 12) / 5);
    const b = new GraphBuilder({ name: 'helpers' });
    const xi = b.input('x', 'float32', [24]);
    const t = b.transpose(b.reshape(xi, [2, 3, 4]), [0, 2, 1]); // [2, 4, 3]
    b.output('t', 'float32', [2, 4, 3], t);
    b.output('s', 'float32', [2, 2, 3], b.slice(t, [1], [3], [1]));
    b.output('u', 'float32', [1, 24], b.unsqueeze(xi, [0]));
    b.output('gelu', 'float32', [24], b.gelu(xi));
    b.output('silu', 'float32', [24], b.silu(xi));
    const bytes = b.toBytes();
    await maybeDumpModel('helpers', bytes);
    const r = await (await createSession(bytes)).run({ x: tensorF32(x, [24]) });
    const at = (i: number, j: number, k: number) => x[i * 12 + j * 4 + k]!;
    const tw: number[] = [];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) tw.push(at(i, j, k));
    expect(Array.from(asF32(r.t!))).toEqual(tw);
    const sw: number[] = [];
    for (let i = 0; i < 2; i++) for (let k = 1; k < 3; k++) for (let j = 0; j < 3; j++) sw.push(at(i, j, k));
    expect(Array.from(asF32(r.s!))).toEqual(sw);
    expect(r.u!.dims).toEqual([1, 24]);
    // erf via its odd Taylor series converges fast on |z| <= 2 / sqrt 2.
    const erf = (z: number) => {
      let term = z;
      let sum = z;
      for (let n = 1; n < 40; n++) {
        term *= (-z * z) / n;
        sum += term / (2 * n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    expect(
      maxAbsDiff(
        asF32(r.gelu!),
        Array.from(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDiff(
        asF32(r.silu!),
        Array.from(x, (v) => v / (1 + Math.exp(-v))),
      ),
    ).toBeLessThan(1e-6);
  });
});

describe('ORT graph optimisation', () => {
  it('fuses the decomposed RMSNorm into SimplifiedLayerNormalization (so the decomposition costs nothing)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-onnx-fuse-'));
    const d = 16;
    const b = new GraphBuilder({ name: 'rms_fuse' });
    const x = b.input('x', 'float32', ['B', 'T', d]);
    b.output(
      'y',
      'float32',
      ['B', 'T', d],
      b.rmsNorm(x, b.init('g', new Float32Array(d).fill(1), [d]), 1e-6),
    );
    const optimized = join(dir, 'opt.onnx');
    await createSession(b.toBytes(), { optimizedModelFilePath: optimized });
    const ops = onnxProto.onnx.ModelProto.decode(await readFile(optimized)).graph!.node!.map((n) => n.opType);
    await rm(dir, { recursive: true, force: true });
    expect(ops).toEqual(['SimplifiedLayerNormalization']);
  });
});
