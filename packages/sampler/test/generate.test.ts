import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowsForGrids } from '@engram-ar/engram';
import { GraphBuilder, maybeDumpModel } from '@engram-ar/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, score } from '../src/generate.js';
import { type LoadedModel, loadModel, releaseModel } from '../src/load.js';
import { applyCfg, argmax } from '../src/sampling.js';
import { writeStepModel } from '../src/step-graph.js';
import { referenceForward, type TinyModel, type TinySpec, tinyModel } from './reference.js';

const spec: TinySpec = {
  vocab: 7,
  numClasses: 3,
  height: 3,
  width: 3,
  nLayer: 2,
  nHead: 2,
  dim: 16,
  mlpHidden: 20,
  engram: {
    layers: [0, 1],
    stencils: [
      ['L', 'U'],
      ['L', 'U', 'UL'],
    ],
    heads: 2,
    tableRows: 11,
    dHead: 4,
  },
  seed: 11,
};
const N = spec.height * spec.width;
const V = spec.vocab;

/** Reference logits of position p for grids with all codes < p known (rows from the shared hash). */
function refStep(
  tiny: TinyModel,
  loaded: LoadedModel,
  grid: Int32Array,
  cls: number,
  p: number,
  clamp: number[],
) {
  const ids = new Int32Array(p + 1);
  const pos = new Int32Array(p + 1);
  for (let t = 0; t <= p; t++) {
    ids[t] = t === 0 ? tiny.manifest.classTokenOffset + cls : grid[t - 1]!;
    pos[t] = t;
  }
  const all = rowsForGrids(loaded.hash!, grid, [1, spec.height, spec.width], Int32Array.of(cls));
  const rows = all.subarray(0, (p + 1) * loaded.hash!.rowsPerPosition);
  const { logits, gates } = referenceForward(tiny, { ids, pos, rows, clamp, B: 1, T: p + 1 });
  return { logits: Float32Array.from(logits.subarray(p * V)), gates };
}

describe('generate / score', () => {
  let dir: string;
  let tiny: TinyModel;
  let model: LoadedModel;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sampler-gen-'));
    tiny = tinyModel(spec);
    await writeStepModel(dir, tiny);
    model = await loadModel(dir);
  });
  afterAll(async () => {
    await releaseModel(model);
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a manifest that loads and round-trips', async () => {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.engram.hash.primes).toEqual(Array.from(model.hash!.primes));
    expect(model.session.inputNames).toEqual(tiny.manifest.io.inputs);
  });

  it('puts initialisers above the threshold into external data and loads them from there', async () => {
    const ext = join(dir, 'ext');
    const tableBytes = tiny.table!.byteLength;
    const mf = await writeStepModel(ext, { ...tiny, externalDataThreshold: tableBytes });
    expect(mf.externalData).toBe('model.onnx.data');
    expect((await stat(join(ext, 'model.onnx.data'))).size).toBeGreaterThanOrEqual(tableBytes);
    const codes = (await generate({ model, classes: 1, n: 2, seed: 4 })).codes;
    const a = await score({ model: ext, codes, classes: 1 });
    const b = await score({ model, codes, classes: 1 });
    expect(Array.from(a.logProbs)).toEqual(Array.from(b.logProbs));
  });

  it('greedy CFG decoding equals a full-recompute reference sampler, token for token', async () => {
    const classes = [0, 2, 3];
    const cfgScale = 2.5;
    const clamp = [-1, -1];
    const r = await generate({ model, classes, n: 3, cfgScale, temperature: 0, seed: 1, batchSize: 2 });
    for (let i = 0; i < classes.length; i++) {
      const grid = new Int32Array(N);
      for (let p = 0; p < N; p++) {
        const cond = refStep(tiny, model, grid, classes[i]!, p, clamp).logits;
        const unc = refStep(tiny, model, grid, spec.numClasses, p, clamp).logits;
        grid[p] = argmax(applyCfg(cond, unc, cfgScale));
      }
      expect(Array.from(r.codes.subarray(i * N, (i + 1) * N))).toEqual(Array.from(grid));
    }
  });

  it('is deterministic for a seed and independent of batchSize; seeds differ', async () => {
    const o = { model, classes: [1, 0, 2, 1, 0], n: 5, topK: 5, topP: 0.95, temperature: 1.3, cfgScale: 1.5 };
    const a = await generate({ ...o, seed: 'x', batchSize: 5 });
    const b = await generate({ ...o, seed: 'x', batchSize: 2 });
    const c = await generate({ ...o, seed: 'y', batchSize: 5 });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    expect(Array.from(a.gates!)).toEqual(Array.from(b.gates!));
    expect(Array.from(a.codes)).not.toEqual(Array.from(c.codes));
    a.codes.forEach((x) => {
      expect(x >= 0 && x < V).toBe(true);
    });
  });

  it('score gives the reference log-probs, NLL and gates, and the gates generate reported', async () => {
    const gen = await generate({ model, classes: [2, 1], n: 2, seed: 5, gateClamp: [null, 0.3] });
    const s = await score({ model, codes: gen.codes, classes: [2, 1], gateClamp: [null, 0.3], batchSize: 1 });
    expect(s.gates!.length).toBe(gen.gates!.length);
    for (let i = 0; i < s.gates!.length; i++) expect(s.gates![i]).toBeCloseTo(gen.gates![i]!, 5);
    for (let i = 0; i < 2; i++) {
      const grid = gen.codes.subarray(i * N, (i + 1) * N);
      const cls = [2, 1][i]!;
      const { logits, gates } = refStep(tiny, model, grid, cls, N - 1, [-1, 0.3]);
      let nll = 0;
      for (let p = 0; p < N; p++) {
        const row = refStep(tiny, model, grid, cls, p, [-1, 0.3]).logits;
        const lse = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
        for (let v = 0; v < V; v++) expect(s.logProbs[(i * N + p) * V + v]).toBeCloseTo(row[v]! - lse, 4);
        nll -= row[grid[p]!]! - lse;
      }
      expect(s.nll[i]).toBeCloseTo(nll, 3);
      expect(logits.length).toBe(V);
      for (let p = 0; p < N; p++) {
        expect(s.gates![(i * N + p) * 2]).toBeCloseTo(gates[p * 2]!, 5);
        expect(s.gates![(i * N + p) * 2 + 1]).toBeCloseTo(0.3, 6);
      }
    }
  });

  it('rowsOverride feeds donor rows to the hash (generate and score agree, identity override is a no-op)', async () => {
    const donor = (await generate({ model, classes: 0, n: 1, seed: 9 })).codes;
    const R = model.hash!.rowsPerPosition;
    const donorRows = rowsForGrids(model.hash!, donor, [1, spec.height, spec.width], Int32Array.of(0));
    const override = (p: number, grids: Int32Array) => {
      const b = grids.length / N;
      const out = new Int32Array(b * R);
      for (let i = 0; i < b; i++) out.set(donorRows.subarray(p * R, (p + 1) * R), i * R);
      return out;
    };
    const gen = await generate({
      model,
      classes: [1, 2],
      n: 2,
      seed: 3,
      temperature: 0,
      rowsOverride: override,
    });
    // Greedy with donor rows: each step's argmax under the donor-row score must be the generated code.
    const s = await score({ model, codes: gen.codes, classes: [1, 2], rowsOverride: override });
    for (let i = 0; i < 2 * N; i++) expect(argmax(s.logProbs, i * V, V)).toBe(gen.codes[i]);
    const plain = await score({ model, codes: gen.codes, classes: [1, 2] });
    const same = await score({ model, codes: gen.codes, classes: [1, 2], rowsOverride: () => null });
    expect(Array.from(same.logProbs)).toEqual(Array.from(plain.logProbs));
    expect(Array.from(s.logProbs)).not.toEqual(Array.from(plain.logProbs));
  });

  it('the decode graph (host KV cache) and the step graph (past/present) sample the same codes', async () => {
    const stepOnly = await loadModel(dir, { decodeGraph: false });
    expect(stepOnly.decode).toBeNull();
    expect(model.decode).not.toBeNull();
    const o = { classes: [0, 1, 2], n: 3, seed: 'paths', temperature: 1, cfgScale: 1.5, batchSize: 3 };
    const a = await generate({ ...o, model });
    const b = await generate({ ...o, model: stepOnly });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    for (let i = 0; i < a.gates!.length; i++) expect(a.gates![i]).toBeCloseTo(b.gates![i]!, 5);
    await releaseModel(stepOnly);
  });

  it('rejects bad arguments naming the field', async () => {
    await expect(generate({ model, classes: 9, n: 1, seed: 0 })).rejects.toThrow(/classes\[0\]/);
    await expect(generate({ model, classes: 0, n: 1, seed: 0, gateClamp: [0.1] })).rejects.toThrow(
      /gateClamp/,
    );
    await expect(
      generate({ model, classes: 0, n: 1, seed: 0, rowsOverride: () => Int32Array.of(1) }),
    ).rejects.toThrow(/rowsOverride/);
    await expect(score({ model, codes: new Int32Array(N).fill(V), classes: 0 })).rejects.toThrow(
      /codes\[0\]/,
    );
  });
});

describe('generate with an Engram conv and a class-keyed hash', () => {
  it('decode graph and step graph agree, and greedy codes are the argmax of score', async () => {
    const convSpec: TinySpec = {
      ...spec,
      nLayer: 1,
      engram: {
        layers: [0],
        stencils: [['L'], ['U', 'UR']],
        heads: 2,
        tableRows: 7,
        dHead: 3,
        classKeyed: true,
        conv: { kernel: 3, dilation: 2 },
      },
    };
    const d = await mkdtemp(join(tmpdir(), 'sampler-conv-'));
    await writeStepModel(d, tinyModel(convSpec));
    await maybeDumpModel('sampler-decode-conv', join(d, 'decode.onnx'));
    const fast = await loadModel(d);
    const slow = await loadModel(d, { decodeGraph: false });
    const o = { classes: [0, 2], n: 2, seed: 1, temperature: 0 };
    const a = await generate({ ...o, model: fast });
    const b = await generate({ ...o, model: slow });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    const s = await score({ model: slow, codes: a.codes, classes: [0, 2] });
    for (let i = 0; i < 2 * N; i++) expect(argmax(s.logProbs, i * V, V)).toBe(a.codes[i]);
    await releaseModel(fast);
    await releaseModel(slow);
    await rm(d, { recursive: true, force: true });
  });
});

describe('loadModel with a decode graph of the old transposed-key layout', () => {
  it('falls back to the step graph (same codes as a current export)', async () => {
    const d = await mkdtemp(join(tmpdir(), 'sampler-oldlayout-'));
    const tiny = tinyModel({ ...spec, engram: undefined });
    await writeStepModel(d, tiny);
    const current = await loadModel(d);
    expect(current.decode).not.toBeNull();
    // Stand-in for an old decode.onnx: key_cache declared [B, H, Dh, M].
    const g = new GraphBuilder({ name: 'old_decode' });
    for (const name of tiny.manifest.io.inputs.filter((n) => !n.startsWith('past_key_values.')))
      g.input(name, 'int64', ['batch', 1]);
    for (let i = 0; i < spec.nLayer; i++) {
      g.input(`key_cache.${i}`, 'float32', ['batch', spec.nHead, spec.dim / spec.nHead, 'max_length']);
      g.input(`value_cache.${i}`, 'float32', ['batch', spec.nHead, 'max_length', spec.dim / spec.nHead]);
    }
    g.input('past_length', 'int64', []);
    g.output('logits', 'float32', ['batch', 1], g.op('Cast', ['input_ids'], { to: 1 }));
    await writeFile(join(d, 'decode.onnx'), g.toBytes());
    const old = await loadModel(d);
    expect(old.decode).toBeNull();
    const o = { classes: [0, 1], n: 2, seed: 2 };
    const a = await generate({ ...o, model: old });
    const b = await generate({ ...o, model: current });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    await releaseModel(old);
    await releaseModel(current);
    await rm(d, { recursive: true, force: true });
  });
});
