// The README example: size a model for a budget, train it on toy rule textures, report held-out bits/code.
// Run: npx tsx scripts/example.ts

import { type CodeGridSet, countParams, solveRho, Trainer } from '@engram-ar/ar-backbone';
import { initBackend } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';

await initBackend(); // tfjs-node-gpu → tfjs-node → wasm → cpu (ENGRAM_AR_BACKEND overrides)

// Toy rule-texture grids: each code is a per-class function of its left and up neighbours.
function grids(n: number, seed: number): CodeGridSet {
  const rng = new Rng(seed),
    rules = new Rng('rules'),
    V = 8,
    H = 5,
    W = 5;
  const rule = new Int32Array(2 * 81).map(() => rules.int(V));
  const codes = new Int32Array(n * H * W),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(2);
    for (let p = 0; p < H * W; p++) {
      const L = p % W ? codes[i * 25 + p - 1]! : V,
        U = p >= W ? codes[i * 25 + p - W]! : V;
      codes[i * 25 + p] = rng.uniform() < 0.05 ? rng.int(V) : rule[(labels[i]! * 9 + L) * 9 + U]!;
    }
  }
  return { codes, labels, numClasses: 2, vocab: V, height: H, width: W };
}
const train = grids(2000, 1),
  test = grids(200, 2);

const { config } = solveRho({
  totalParams: 2e5,
  rho: 0.5,
  vocab: 8,
  height: 5,
  width: 5,
  numClasses: 2,
  engram: { stencils: [['L', 'U']], heads: 2, dHead: 8 },
});
console.log(countParams(config)); // { backbone, memory, total, rho }
const t = new Trainer(config, train, test, { steps: 150, batchSize: 32, lr: 3e-3, warmupSteps: 20 });
const r = await t.run((p) => p.step % 50 === 0 && console.log(p.step, p.bitsPerCode.toFixed(3)));
console.log('held-out bits/code', r.finalBitsPerCode); // uniform would be log2(8) = 3
t.dispose();
