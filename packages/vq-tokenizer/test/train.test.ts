import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageDataset, loadDataset, subset } from '@engram-ar/datasets';
import { createSession } from '@engram-ar/onnx';
import { initBackend } from '@engram-ar/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../src/checkpoint.js';
import { parseTokenizerConfig, type TokenizerConfig } from '../src/config.js';
import { exportOnnx } from '../src/export.js';
import { imagesNchw } from '../src/images.js';
import { batchIndices, CHECKPOINT_FILE, type TrainProgress, trainTokenizer } from '../src/train.js';
import { maxAbsDiff } from './reference.js';

let dir: string;
let ds: ImageDataset;
let test: ImageDataset;

const tiny: TokenizerConfig = parseTokenizerConfig({
  arch: {
    channels: 1,
    baseChannels: 4,
    channelMult: [1, 2, 2],
    numRes: 1,
    downsample: 4,
    normGroups: 2,
    codebookSize: 16,
    codeDim: 4,
  },
  // restartAfter 3 makes dead-code restarts happen inside the interrupted window.
  train: { steps: 12, batchSize: 8, lr: 3e-3, warmupSteps: 2, restartAfter: 3, checkpointEvery: 4, seed: 7 },
});

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
  dir = await mkdtemp(join(tmpdir(), 'vq-train-'));
  const splits = await loadDataset({ name: 'mnist' });
  ds = subset(splits.train, 256, 1);
  test = subset(splits.test, 64, 2);
}, 30_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('batchIndices', () => {
  it('each epoch visits every row exactly once, and is a pure function of (seed, step)', () => {
    const n = 10;
    const seen = new Int32Array(n);
    for (let s = 0; s < 5; s++) for (const i of batchIndices(3, s, n, 2)) seen[i]!++;
    expect(Array.from(seen)).toEqual(new Array(n).fill(1));
    expect(Array.from(batchIndices(3, 7, n, 4))).toEqual(Array.from(batchIndices(3, 7, n, 4)));
    expect(Array.from(batchIndices(3, 0, n, 4))).not.toEqual(Array.from(batchIndices(4, 0, n, 4)));
  });
});

describe('trainTokenizer', () => {
  it('interrupted + resumed run is bit-identical to a straight run (weights, optimiser, code counters)', async () => {
    const straightDir = join(dir, 'straight');
    const log: TrainProgress[] = [];
    const a = await trainTokenizer(ds, tiny, { checkpointDir: straightDir, onProgress: (p) => log.push(p) });
    expect(a.step).toBe(12);
    expect(log.reduce((s, p) => s + p.restarted, 0)).toBeGreaterThan(0);

    const resumedDir = join(dir, 'resumed');
    const first = await trainTokenizer(ds, tiny, { checkpointDir: resumedDir, stopAtStep: 6 });
    expect(first.step).toBe(6);
    first.model.dispose();
    const b = await trainTokenizer(ds, tiny, { checkpointDir: resumedDir, resume: true });
    expect(b.step).toBe(12);

    const ca = await loadTokenizer(join(straightDir, CHECKPOINT_FILE));
    const cb = await loadTokenizer(join(resumedDir, CHECKPOINT_FILE));
    const va = ca.model.values();
    const vb = cb.model.values();
    for (const [k, v] of va)
      expect(Buffer.from(vb.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
    expect(cb.usage).toEqual(ca.usage);
    const oa = ca.optimizer as { step: number; m: Float32Array[]; v: Float32Array[] };
    const ob = cb.optimizer as { step: number; m: Float32Array[]; v: Float32Array[] };
    expect(ob.step).toBe(oa.step);
    oa.m.forEach((m, i) => {
      expect(Buffer.from(ob.m[i]!.buffer).equals(Buffer.from(m.buffer))).toBe(true);
      expect(Buffer.from(ob.v[i]!.buffer).equals(Buffer.from(oa.v[i]!.buffer))).toBe(true);
    });
    // The in-memory model returned by the run equals what its checkpoint holds.
    for (const [k, v] of b.model.values()) expect(maxAbsDiff(v, vb.get(k)!)).toBe(0);
    for (const m of [a.model, b.model, ca.model, cb.model]) m.dispose();
  }, 60_000);

  it('reduces the reconstruction loss, and the trained model exports with ORT parity', async () => {
    const cfg = parseTokenizerConfig({ ...tiny, train: { ...tiny.train, steps: 40, restartAfter: 10 } });
    const log: TrainProgress[] = [];
    const r = await trainTokenizer(ds, cfg, { onProgress: (p) => log.push(p) });
    const early = log.slice(0, 5).reduce((s, p) => s + p.recLoss, 0) / 5;
    const late = log.slice(-5).reduce((s, p) => s + p.recLoss, 0) / 5;
    expect(late).toBeLessThan(0.8 * early);

    const out = join(dir, 'export');
    const e = await exportOnnx(
      { arch: r.model.arch, values: r.model.values() },
      { dir: out, height: 28, width: 28 },
    );
    const n = test.labels.length;
    const x = imagesNchw(test);
    const tfCodes = r.model.encode(x, n, 28, 28);
    const enc = await createSession(e.encoderPath!);
    const o = await enc.run({ images: { type: 'float32', data: x, dims: [n, 1, 28, 28] } });
    const ortCodes = o.codes!.data as BigInt64Array;
    let same = 0;
    for (let i = 0; i < tfCodes.length; i++) if (BigInt(tfCodes[i]!) === ortCodes[i]) same++;
    expect(same / tfCodes.length).toBeGreaterThanOrEqual(0.999);
    const dec = await createSession(e.decoderPath!);
    const d = await dec.run({
      codes: { type: 'int64', data: BigInt64Array.from(tfCodes, BigInt), dims: [n, 7, 7] },
    });
    expect(maxAbsDiff(d.images!.data as Float32Array, r.model.decode(tfCodes, n, 7, 7))).toBeLessThanOrEqual(
      1e-4,
    );
    r.model.dispose();
  }, 60_000);
});
