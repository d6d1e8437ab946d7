// Trains the default feature net on the MNIST train split and reports test accuracy and time.
//   cd packages/feature-net && npx tsx bench/train.ts
import { loadDataset } from '@engram-ar/datasets';
import { initBackend } from '@engram-ar/tensor';
import { evaluateAccuracy, trainFeatureNet } from '../src/index.js';

const backend = await initBackend({ log: () => {} });
const { train, test } = await loadDataset({ name: 'mnist', seed: 0 });
const t0 = performance.now();
const model = await trainFeatureNet(train, { seed: 0 });
const trainSeconds = (performance.now() - t0) / 1000;
const accuracy = await evaluateAccuracy(model, test);
console.log(
  JSON.stringify({
    bench: 'feature-net/train-mnist',
    backend: backend.name,
    train: train.labels.length,
    test: test.labels.length,
    steps: model.config.steps,
    batchSize: model.config.batchSize,
    trainSeconds: Number(trainSeconds.toFixed(1)),
    testAccuracy: Number(accuracy.toFixed(4)),
  }),
);
