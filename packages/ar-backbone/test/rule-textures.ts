// Tiny local rule-texture generator (positive-control data): with prob. 1-ε each code is a fixed per-class
// function of its (left, up) neighbours (pad = vocab outside the grid), else uniform noise.
import { Rng } from '@engram-ar/tensor/rng';
import type { CodeGridSet } from '../src/trainer.js';

export function ruleTextures(o: {
  n: number;
  numClasses: number;
  vocab: number;
  height: number;
  width: number;
  eps: number;
  seed: number;
}): CodeGridSet {
  const rng = new Rng(o.seed);
  const V1 = o.vocab + 1;
  const rules = new Int32Array(o.numClasses * V1 * V1);
  const ruleRng = new Rng('rules');
  for (let i = 0; i < rules.length; i++) rules[i] = ruleRng.int(o.vocab);
  const N = o.height * o.width;
  const codes = new Int32Array(o.n * N);
  const labels = new Int32Array(o.n);
  for (let i = 0; i < o.n; i++) {
    const cls = rng.int(o.numClasses);
    labels[i] = cls;
    for (let r = 0; r < o.height; r++) {
      for (let c = 0; c < o.width; c++) {
        const L = c > 0 ? codes[i * N + r * o.width + c - 1]! : o.vocab;
        const U = r > 0 ? codes[i * N + (r - 1) * o.width + c]! : o.vocab;
        codes[i * N + r * o.width + c] =
          rng.uniform() < o.eps ? rng.int(o.vocab) : rules[(cls * V1 + L) * V1 + U]!;
      }
    }
  }
  return { codes, labels, numClasses: o.numClasses, vocab: o.vocab, height: o.height, width: o.width };
}
