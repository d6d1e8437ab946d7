// The model LEARNS: on rule textures (each code is, with prob. 1-ε, a per-class function of its left and
// up neighbours) held-out bits/code must fall far below the uniform log2(vocab) within a few hundred steps.
import { initBackend } from '@engram-ar/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../src/trainer.js';
import { ruleTextures } from './rule-textures.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});

const data = { numClasses: 2, vocab: 8, height: 5, width: 5, eps: 0.05 };
const train = ruleTextures({ ...data, n: 2000, seed: 1 });
const test = ruleTextures({ ...data, n: 200, seed: 2 });
const model = { vocab: 8, height: 5, width: 5, numClasses: 2, nLayer: 2, nHead: 4, dim: 32, mlpHidden: 64 };

describe('learning', () => {
  for (const variant of ['baseline', 'engram'] as const) {
    it(`${variant}: held-out bits/code drops far below log2(vocab) = 3`, async () => {
      const config =
        variant === 'baseline'
          ? model
          : {
              ...model,
              engram: { layers: [0], vocab: 8, tableRows: 4000, dHead: 8, heads: 2, stencils: [['L', 'U']] },
            };
      const t = new Trainer(config, train, test, {
        steps: 120,
        batchSize: 32,
        lr: 3e-3,
        warmupSteps: 20,
        evalSize: 200,
      });
      const before = t.evaluate(test);
      const r = await t.run();
      t.dispose();
      expect(before).toBeCloseTo(3, 1);
      expect(r.finalBitsPerCode).toBeLessThan(1.5);
    }, 60_000);
  }
});
