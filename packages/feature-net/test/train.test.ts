import { loadDataset, subset } from '@engram-ar/datasets';
import { initBackend } from '@engram-ar/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeFeatureNet } from '../src/model.js';
import { evaluateAccuracy, type TrainProgress, trainFeatureNet } from '../src/train.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('trainFeatureNet', () => {
  it('learns MNIST digits well above chance in a few hundred small steps', { timeout: 60_000 }, async () => {
    const { train, test } = await loadDataset({ name: 'mnist', seed: 0 });
    const tr = subset(train, 2000, 1);
    const te = subset(test, 500, 2);
    const progress: TrainProgress[] = [];
    const cfg = { channels1: 8, channels2: 16, features: 32, steps: 200, batchSize: 32, lr: 3e-3, seed: 0 };
    const model = await trainFeatureNet(tr, cfg, { onProgress: (p) => progress.push(p), progressEvery: 50 });
    const acc = await evaluateAccuracy(model, te);
    expect(acc).toBeGreaterThan(0.8); // chance is 0.1
    expect(model.testAccuracy).toBe(acc);
    expect(progress.map((p) => p.step)).toEqual([50, 100, 150, 200]);
    expect(progress.at(-1)!.loss).toBeLessThan(progress[0]!.loss);
    disposeFeatureNet(model);
  });
});
