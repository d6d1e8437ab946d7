import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@engram-ar/tensor';
import { loadCheckpoint } from '@engram-ar/tensor/safetensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GPTConfigInput, parseGPTConfig } from '../src/config.js';
import { Trainer, type TrainOptionsInput } from '../src/trainer.js';
import { ruleTextures } from './rule-textures.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-trainer-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = { numClasses: 3, vocab: 8, height: 4, width: 4, eps: 0.05 };
const train = ruleTextures({ ...data, n: 400, seed: 1 });
const test = ruleTextures({ ...data, n: 100, seed: 2 });
const tiny: GPTConfigInput = {
  vocab: 8,
  height: 4,
  width: 4,
  numClasses: 3,
  nLayer: 2,
  nHead: 2,
  dim: 16,
  mlpHidden: 32,
  engram: { layers: [1], vocab: 8, tableRows: 64, dHead: 4, heads: 2 },
};
const opts: TrainOptionsInput = { steps: 12, batchSize: 8, warmupSteps: 3, evalSize: 32 };

function snapshot(t: Trainer): Float32Array[] {
  const out = Object.values(t.model.toHost()).map((w) => w.data.slice());
  if (t.table) out.push(t.table.data.slice());
  return out;
}

describe('Trainer', () => {
  it('resumes exactly: k steps + reload + rest == straight run, bit for bit', async () => {
    const straight = new Trainer(tiny, train, test, opts);
    await straight.run();
    const want = snapshot(straight);
    straight.dispose();

    const ckpt = join(dir, 'resume.safetensors');
    const first = await Trainer.create(tiny, train, test, { ...opts, checkpointPath: ckpt, stopAfter: 5 });
    const r1 = await first.run();
    expect(r1.step).toBe(5);
    first.dispose();
    // A fresh trainer (as a new process would build) picks the checkpoint up and finishes.
    const second = await Trainer.create(tiny, train, test, { ...opts, checkpointPath: ckpt });
    expect(second.step).toBe(5);
    const r2 = await second.run();
    expect(r2.step).toBe(12);
    const got = snapshot(second);
    second.dispose();
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++)
      expect(Buffer.from(got[i]!.buffer).equals(Buffer.from(want[i]!.buffer))).toBe(true);
    // and the run really moved the weights and the table
    const init = new Trainer(tiny, train, test, opts);
    const start = snapshot(init);
    init.dispose();
    expect(Buffer.from(start.at(-1)!.buffer).equals(Buffer.from(want.at(-1)!.buffer))).toBe(false);
  });

  it('stops on NaN and keeps the last good checkpoint', async () => {
    const ckpt = join(dir, 'nan.safetensors');
    const t = await Trainer.create(tiny, train, test, { ...opts, checkpointPath: ckpt, checkpointEvery: 3 });
    t.beforeStep = (step, model) => {
      if (step === 7) {
        const w = model.weights.get('blocks.0.wq')!;
        w.assign(tf.fill(w.shape, Number.NaN));
      }
    };
    const r = await t.run();
    t.dispose();
    expect(r.stoppedOnNaN).toBe(true);
    expect(r.step).toBe(7);
    expect(r.lastCheckpoint).toBe(ckpt);
    const { tensors, sidecar } = await loadCheckpoint(ckpt);
    expect((sidecar as { step: number }).step).toBe(6);
    for (const [name, t] of Object.entries(tensors)) {
      if (t.dtype === 'F32') expect((t.data as Float32Array).every(Number.isFinite), name).toBe(true);
    }
  });

  it('frozenTable keeps the N(0,1) table fixed while the backbone trains', async () => {
    const t = new Trainer(tiny, train, test, { ...opts, steps: 4, frozenTable: true });
    const table0 = t.table!.data.slice();
    const w0 = t.model.toHost()['engram.1.w_v']!.data.slice();
    await t.run();
    expect(t.sparse).toBeNull();
    expect(Buffer.from(t.table!.data.buffer).equals(Buffer.from(table0.buffer))).toBe(true);
    let sq = 0;
    for (const x of table0) sq += x * x;
    expect(Math.sqrt(sq / table0.length)).toBeGreaterThan(0.8);
    expect(t.model.toHost()['engram.1.w_v']!.data).not.toEqual(w0);
    t.dispose();
  });

  it('rejects mismatched data with the field named', () => {
    const bad = { ...train, vocab: 9 };
    expect(() => new Trainer(tiny, bad, null, opts)).toThrow(/train\.vocab/);
    expect(() => new Trainer(tiny, train, null, { ...opts, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => parseGPTConfig({ ...tiny, nHead: 3 })).toThrow(/dim/);
  });
});
