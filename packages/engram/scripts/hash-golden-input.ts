// Step 1 of the hash golden: dumps a fixed config's constants (multipliers, primes, offsets) and a seeded
// grid batch to test/golden/hash-input.json. Step 2 (make_hash_golden.py) recomputes the row ids in Python,
// an independent implementation, and writes test/golden/hash.json.
// Run: npx tsx scripts/hash-golden-input.ts && /usr/bin/python3 scripts/make_hash_golden.py
import { writeFileSync } from 'node:fs';
import { Rng } from '@engram-ar/tensor/rng';
import { buildHashSpec } from '../src/hash.js';

const cases = [
  {
    name: '2d-class-keyed',
    config: {
      layers: [2, 5],
      stencils: [['L', 'U'], ['L', 'U', 'UL'], ['UR']],
      heads: 3,
      tableRows: 997,
      dHead: 4,
      vocab: 37,
      classKeyed: true,
      seed: 1234,
    },
    shape: [3, 5, 6],
  },
  {
    name: '1d-text',
    config: {
      layers: [0],
      stencils: [[1], [1, 2]],
      heads: 4,
      tableRows: 5000,
      dHead: 4,
      vocab: 1000,
      seed: 'text',
    },
    shape: [2, 1, 17],
  },
];

const out = cases.map((c) => {
  const spec = buildHashSpec(c.config);
  const rng = new Rng(`golden-${c.name}`);
  const [B, H, W] = c.shape as [number, number, number];
  const codes = Array.from({ length: B * H * W }, () => rng.int(c.config.vocab));
  const classes = Array.from({ length: B }, () => rng.int(10));
  return {
    ...c,
    pad: spec.pad,
    keyWidth: spec.keyWidth,
    multipliers: Array.from(spec.multipliers),
    primes: Array.from(spec.primes),
    offsets: Array.from(spec.offsets),
    codes,
    classes,
  };
});
writeFileSync(new URL('../test/golden/hash-input.json', import.meta.url), `${JSON.stringify(out)}\n`);
