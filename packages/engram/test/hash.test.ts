import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '@engram-ar/tensor/rng';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEngramConfig } from '../src/config.js';
import {
  buildHashSpec,
  checkHashSpec,
  hashSpecToJSON,
  nextPrime,
  rowsForGrids,
  rowsForNext,
  rowsForNextBatch,
  rowsForNextToken,
  rowsForSequences,
} from '../src/hash.js';
import { chiSquareSf } from './chi-square.js';

const NB = ['L', 'U', 'UL', 'UR'] as const;

/** Arbitrary small config (2D or 1D stencils) plus a batch of grids filled with valid codes. */
const caseArb = fc
  .record({
    layers: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 3 }),
    twoD: fc.boolean(),
    stencils2d: fc.array(fc.uniqueArray(fc.constantFrom(...NB), { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 3,
    }),
    stencils1d: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), {
      minLength: 1,
      maxLength: 3,
    }),
    heads: fc.integer({ min: 1, max: 4 }),
    tableRows: fc.integer({ min: 2, max: 5000 }),
    vocab: fc.integer({ min: 1, max: 300 }),
    classKeyed: fc.boolean(),
    seed: fc.oneof(fc.integer(), fc.string()),
    B: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 6 }),
    W: fc.integer({ min: 1, max: 6 }),
    gridSeed: fc.integer(),
  })
  .map((c) => {
    const config = parseEngramConfig({
      layers: c.layers,
      stencils: c.twoD ? c.stencils2d : c.stencils1d,
      heads: c.heads,
      tableRows: c.tableRows,
      dHead: 2,
      vocab: c.vocab,
      classKeyed: c.classKeyed,
      seed: c.seed,
    });
    const rng = new Rng(c.gridSeed);
    const codes = Int32Array.from({ length: c.B * c.H * c.W }, () => rng.int(c.vocab));
    const classes = Int32Array.from({ length: c.B }, () => rng.int(11));
    return { config, codes, classes, shape: [c.B, c.H, c.W] as [number, number, number] };
  });

describe('buildHashSpec', () => {
  it('uses odd multipliers and distinct consecutive primes ≥ tableRows with packed offsets', () => {
    fc.assert(
      fc.property(caseArb, ({ config }) => {
        const spec = buildHashSpec(config);
        for (const m of spec.multipliers) expect(m % 2).toBe(1);
        let expected = config.tableRows - 1;
        let off = 0;
        spec.primes.forEach((p, i) => {
          expected = nextPrime(expected + 1);
          expect(p).toBe(expected);
          expect(spec.offsets[i]).toBe(off);
          off += p;
        });
        expect(spec.totalRows).toBe(off);
        expect(new Set(spec.primes).size).toBe(spec.primes.length);
      }),
      { numRuns: 50 },
    );
  });

  it('nextPrime agrees with trial division', () => {
    const naive = (n: number) => {
      for (let p = Math.max(2, n); ; p++) {
        let ok = true;
        for (let f = 2; f < p; f++) if (p % f === 0) ok = false;
        if (ok) return p;
      }
    };
    for (let n = 0; n < 400; n++) expect(nextPrime(n)).toBe(naive(n));
  });

  it('rejects bad configs naming the field path', () => {
    expect(() =>
      buildHashSpec({ layers: [0], tableRows: 10, dHead: 4, vocab: 8, stencils: [['L', 'X']] }),
    ).toThrow(/stencils/);
    expect(() => buildHashSpec({ layers: [1, 1], tableRows: 10, dHead: 4, vocab: 8 })).toThrow(/layers/);
    expect(() => buildHashSpec({ layers: [0], tableRows: 10, dHead: 4, vocab: 0 })).toThrow(/vocab/);
    expect(() => buildHashSpec({ layers: [0, 1, 2], tableRows: 2 ** 29, dHead: 4, vocab: 8 })).toThrow(
      /tableRows/,
    );
  });

  it('round-trips through the manifest JSON and detects a mismatch', () => {
    const spec = buildHashSpec({ layers: [0, 3], tableRows: 100, dHead: 4, vocab: 8, seed: 7 });
    const json = JSON.parse(JSON.stringify(hashSpecToJSON(spec)));
    expect(() => checkHashSpec(spec, json)).not.toThrow();
    const other = buildHashSpec({ layers: [0, 3], tableRows: 100, dHead: 4, vocab: 8, seed: 8 });
    expect(() => checkHashSpec(other, json)).toThrow(/'seed'/);
    json.multipliers[1] += 2;
    expect(() => checkHashSpec(spec, json)).toThrow(/'multipliers'/);
  });
});

describe('row ids', () => {
  it('batch (teacher forcing) and incremental (sampling) agree, and ids stay in their head block', () => {
    fc.assert(
      fc.property(caseArb, ({ config, codes, classes, shape }) => {
        const spec = buildHashSpec(config);
        const [B, H, W] = shape;
        const R = spec.rowsPerPosition;
        const all = rowsForGrids(spec, codes, shape, classes);
        expect(all.length).toBe(B * H * W * R);
        const K = spec.heads;
        for (let i = 0; i < all.length; i++) {
          const h = Math.floor((i % R) / K) * K + (i % K);
          expect(all[i]).toBeGreaterThanOrEqual(spec.offsets[h]!);
          expect(all[i]).toBeLessThan(spec.offsets[h]! + spec.primes[h]!);
        }
        const out = new Int32Array(R);
        for (let b = 0; b < B; b++) {
          // Partially filled grid: cells ≥ pos hold garbage that must not be read.
          const grid = new Int32Array(H * W).fill(-99);
          for (let p = 0; p < H * W; p++) {
            rowsForNext(spec, grid, [H, W], p, classes[b], out);
            expect(Array.from(out)).toEqual(
              Array.from(all.subarray((b * H * W + p) * R, (b * H * W + p + 1) * R)),
            );
            grid[p] = codes[b * H * W + p]!;
          }
        }
        const batchNext = rowsForNextBatch(spec, codes, shape, H * W - 1, classes);
        for (let b = 0; b < B; b++) {
          const p = b * H * W + H * W - 1;
          expect(Array.from(batchNext.subarray(b * R, (b + 1) * R))).toEqual(
            Array.from(all.subarray(p * R, (p + 1) * R)),
          );
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keys use exactly the stencil neighbours: changing any other cell changes nothing', () => {
    const spec = buildHashSpec({
      layers: [0],
      stencils: [['L', 'UR']],
      heads: 2,
      tableRows: 50,
      dHead: 2,
      vocab: 9,
    });
    const H = 4;
    const W = 5;
    const rng = new Rng(3);
    const codes = Int32Array.from({ length: H * W }, () => rng.int(9));
    const base = rowsForGrids(spec, codes, [1, H, W]);
    const p = 2 * W + 2; // (2, 2): L = (2, 1), UR = (1, 3)
    for (let q = 0; q < H * W; q++) {
      const changed = codes.slice();
      changed[q] = (changed[q]! + 1) % 9;
      const rows = rowsForGrids(spec, changed, [1, H, W]);
      const same = rows[p * 2] === base[p * 2] && rows[p * 2 + 1] === base[p * 2 + 1];
      if (q !== 2 * W + 1 && q !== 1 * W + 3) expect(same).toBe(true);
    }
  });

  it('out-of-grid neighbours take the pad id (first cell keys = all pads)', () => {
    const spec = buildHashSpec({
      layers: [0],
      tableRows: 101,
      dHead: 2,
      vocab: 5,
      heads: 1,
      stencils: [['L', 'U']],
    });
    const rows = rowsForGrids(spec, new Int32Array([1, 2, 3, 4]), [1, 2, 2]);
    const m = spec.multipliers;
    const mix = (Math.imul(5 + 1, m[0]!) ^ Math.imul(5 + 1, m[1]!)) >>> 0;
    expect(rows[0]).toBe(mix % spec.primes[0]!);
    // (1, 1): L = code 3 at (1, 0), U = code 2 at (0, 1)
    const mix3 = (Math.imul(3 + 1, m[0]!) ^ Math.imul(2 + 1, m[1]!)) >>> 0;
    expect(rows[3]).toBe(mix3 % spec.primes[0]!);
  });

  it('class keying: ids depend on the class only when classKeyed', () => {
    const base = { layers: [0], tableRows: 1009, dHead: 2, vocab: 50, heads: 2 };
    const codes = Int32Array.from({ length: 16 }, (_, i) => (i * 13) % 50);
    const plain = buildHashSpec(base);
    const a = rowsForGrids(plain, codes, [1, 4, 4], new Int32Array([1]));
    const b = rowsForGrids(plain, codes, [1, 4, 4], new Int32Array([2]));
    expect(Array.from(a)).toEqual(Array.from(b));
    const keyed = buildHashSpec({ ...base, classKeyed: true });
    const c = rowsForGrids(keyed, codes, [1, 4, 4], new Int32Array([1]));
    const d = rowsForGrids(keyed, codes, [1, 4, 4], new Int32Array([2]));
    expect(Array.from(c)).not.toEqual(Array.from(d));
    expect(() => rowsForGrids(keyed, codes, [1, 4, 4])).toThrow(/class id/);
  });

  it('1D text stencils: sequences and next-token agree; 2D stencils are refused for sequences', () => {
    const spec = buildHashSpec({
      layers: [0, 1],
      stencils: [[1], [1, 2]],
      tableRows: 3001,
      dHead: 2,
      vocab: 1000,
    });
    const seq = Int32Array.from({ length: 12 }, (_, i) => (i * 71) % 1000);
    const all = rowsForSequences(spec, seq, [1, 12]);
    for (let t = 0; t < 12; t++) {
      expect(Array.from(rowsForNextToken(spec, seq, t))).toEqual(
        Array.from(all.subarray(t * 16, t * 16 + 16)),
      );
    }
    // Same bigram (t-1, t-2) → same rows of stencil 1, regardless of position.
    const rep = new Int32Array([5, 6, 7, 5, 6, 9]);
    const r = rowsForSequences(spec, rep, [1, 6]);
    const s1 = (t: number) => Array.from(r.subarray(t * 16 + 4, t * 16 + 8));
    expect(s1(5)).toEqual(s1(2));
    const twoD = buildHashSpec({ layers: [0], tableRows: 10, dHead: 2, vocab: 4 });
    expect(() => rowsForSequences(twoD, seq, [1, 12])).toThrow(/1D stencils/);
  });

  it('rejects codes outside the vocabulary', () => {
    const spec = buildHashSpec({ layers: [0], tableRows: 10, dHead: 2, vocab: 4 });
    expect(() => rowsForGrids(spec, new Int32Array([0, 4, 1, 2]), [1, 2, 2])).toThrow(/outside \[0, 4\)/);
  });
});

describe('determinism', () => {
  it('matches the committed golden computed by an independent Python implementation', () => {
    const golden = JSON.parse(readFileSync(new URL('./golden/hash.json', import.meta.url), 'utf8'));
    for (const g of golden) {
      const spec = buildHashSpec(g.config);
      expect(Array.from(spec.multipliers)).toEqual(g.multipliers);
      expect(Array.from(spec.primes)).toEqual(g.primes);
      const rows = rowsForGrids(spec, Int32Array.from(g.codes), g.shape, Int32Array.from(g.classes));
      expect(Array.from(rows)).toEqual(g.ids);
    }
  });

  it('gives the same ids in a separate process', () => {
    const config = { layers: [1, 4], tableRows: 777, dHead: 2, vocab: 64, seed: 'proc', classKeyed: true };
    const rng = new Rng(11);
    const codes = Array.from({ length: 2 * 4 * 4 }, () => rng.int(64));
    const arg = JSON.stringify({ config, codes, shape: [2, 4, 4], classes: [3, 9] });
    const child = fileURLToPath(new URL('./fixtures/hash-child.ts', import.meta.url));
    const out = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', child, arg], { encoding: 'utf8' }),
    );
    const spec = buildHashSpec(config);
    expect(out.multipliers).toEqual(Array.from(spec.multipliers));
    expect(out.rows).toEqual(
      Array.from(rowsForGrids(spec, Int32Array.from(codes), [2, 4, 4], new Int32Array([3, 9]))),
    );
  }, 30_000);
});

describe('row use', () => {
  it('is near-uniform on random grids for every head (chi-square p > 0.001)', () => {
    // Large vocab so distinct keys ≫ positions: then the counts of a random-like hash are multinomial.
    const spec = buildHashSpec({ layers: [0, 1], tableRows: 211, dHead: 2, vocab: 4096, heads: 3 });
    const [B, H, W] = [40, 16, 16];
    const rng = new Rng('chi');
    const codes = Int32Array.from({ length: B * H * W }, () => rng.int(4096));
    const rows = rowsForGrids(spec, codes, [B, H, W]);
    const R = spec.rowsPerPosition;
    for (let h = 0; h < R; h++) {
      const P = spec.primes[h]!;
      const counts = new Float64Array(P);
      // Skip the first row and column: their keys contain pads, so they repeat by construction.
      for (let b = 0; b < B; b++)
        for (let r = 1; r < H; r++)
          for (let c = 1; c < W; c++) counts[rows[((b * H + r) * W + c) * R + h]! - spec.offsets[h]!]!++;
      const n = B * (H - 1) * (W - 1);
      const e = n / P;
      let x2 = 0;
      for (const c of counts) x2 += ((c - e) * (c - e)) / e;
      expect(chiSquareSf(x2, P - 1)).toBeGreaterThan(0.001);
    }
  });

  it('the chi-square survival function matches scipy', () => {
    // scipy.stats.chi2.sf(x, df)
    expect(chiSquareSf(3.84145882, 1)).toBeCloseTo(0.05, 8);
    expect(chiSquareSf(250, 210)).toBeCloseTo(0.030596314, 7);
    expect(chiSquareSf(180, 210)).toBeCloseTo(0.934103801, 7);
    expect(chiSquareSf(300, 210)).toBeCloseTo(4.48000506e-5, 10);
  });
});
