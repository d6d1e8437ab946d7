import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkDataset,
  classCounts,
  concatDatasets,
  type ImageDataset,
  shuffleDataset,
  splitDataset,
  stratifiedQuota,
  subset,
  takeRows,
} from '../src/index.js';

/** Row i is a 2x3x1 image whose every pixel is i mod 256 and whose first pixel pair encodes i. */
function toy(labels: number[], numClasses = 3): ImageDataset {
  const n = labels.length;
  const images = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) {
    images.fill(i % 256, i * 6, i * 6 + 6);
    images[i * 6] = i >> 8;
    images[i * 6 + 1] = i & 255;
  }
  return {
    name: 'toy',
    images,
    labels: Int32Array.from(labels),
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, c) => `c${c}`),
    height: 2,
    width: 3,
    channels: 1,
  };
}

const rowIds = (ds: ImageDataset) =>
  Array.from(ds.labels, (_, i) => ds.images[i * 6]! * 256 + ds.images[i * 6 + 1]!);

describe('stratifiedQuota', () => {
  it('sums exactly to total and stays within 1 of the proportional share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        (counts, t) => {
          const n = counts.reduce((a, b) => a + b, 0);
          const total = n === 0 ? 0 : t % (n + 1);
          const q = stratifiedQuota(counts, total);
          expect(q.reduce((a, b) => a + b, 0)).toBe(total);
          counts.forEach((c, k) => {
            expect(Math.abs(q[k]! - (n ? (c * total) / n : 0))).toBeLessThan(1);
            expect(q[k]!).toBeLessThanOrEqual(c);
          });
        },
      ),
    );
  });
  it('rejects a total above the row count', () => {
    expect(() => stratifiedQuota([2, 3], 6)).toThrow(/total must be an integer in \[0, 5\]/);
  });
});

describe('splitDataset', () => {
  const labels = Array.from({ length: 103 }, (_, i) => (i * 7) % 3);
  const ds = toy(labels);
  it('partitions the rows, stratified by class, deterministically', () => {
    const a = splitDataset(ds, { testCount: 31, seed: 5 });
    const b = splitDataset(ds, { testCount: 31, seed: 5 });
    expect(a.test.labels.length).toBe(31);
    expect(a.train.labels.length).toBe(72);
    const all = [...rowIds(a.train), ...rowIds(a.test)].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(Array.from(classCounts(a.test.labels, 3))).toEqual(
      Array.from(stratifiedQuota(classCounts(ds.labels, 3), 31)),
    );
    expect(b.test.images).toEqual(a.test.images);
    expect(b.train.labels).toEqual(a.train.labels);
    // labels travel with their images
    for (const part of [a.train, a.test]) {
      expect(Array.from(part.labels)).toEqual(rowIds(part).map((id) => labels[id]));
    }
    const c = splitDataset(ds, { testCount: 31, seed: 6 });
    expect(rowIds(c.test)).not.toEqual(rowIds(a.test));
  });
  it('unstratified split is still a partition', () => {
    const a = splitDataset(ds, { testCount: 10, seed: 1, stratified: false });
    expect([...rowIds(a.train), ...rowIds(a.test)].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 103 }, (_, i) => i),
    );
  });
});

describe('subset / shuffle / takeRows', () => {
  const ds = toy(Array.from({ length: 40 }, (_, i) => i % 3));
  it('smaller subsets are prefixes of larger ones for one seed', () => {
    const small = rowIds(subset(ds, 7, 'x'));
    const big = rowIds(subset(ds, 20, 'x'));
    expect(big.slice(0, 7)).toEqual(small);
    expect(new Set(big).size).toBe(20);
    expect(rowIds(subset(ds, 20, 'y'))).not.toEqual(big);
    expect(() => subset(ds, 41, 0)).toThrow(/n must be an integer in \[0, 40\]/);
  });
  it('shuffle is a seeded permutation', () => {
    const s = rowIds(shuffleDataset(ds, 3));
    expect([...s].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(rowIds(shuffleDataset(ds, 3))).toEqual(s);
    expect(s).not.toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
  it('takeRows copies rows in the given order and checks indices', () => {
    const t = takeRows(ds, [5, 1, 5]);
    expect(rowIds(t)).toEqual([5, 1, 5]);
    expect(Array.from(t.labels)).toEqual([2, 1, 2]);
    expect(() => takeRows(ds, [40])).toThrow(/index 40 outside \[0, 40\)/);
  });
  it('concatDatasets stacks rows and rejects other geometry', () => {
    const c = concatDatasets([takeRows(ds, [0, 1]), takeRows(ds, [2])], 'c');
    expect(rowIds(c)).toEqual([0, 1, 2]);
    expect(() => concatDatasets([ds, { ...ds, width: 2, images: new Uint8Array(160) }], 'bad')).toThrow(
      /is 2x2x1, expected 2x3x1/,
    );
  });
});

describe('checkDataset', () => {
  const ds = toy([0, 1, 2]);
  it('accepts a consistent dataset', () => expect(() => checkDataset(ds)).not.toThrow());
  it('names what disagrees', () => {
    expect(() => checkDataset({ ...ds, images: new Uint8Array(5) })).toThrow(/images has 5 bytes, expected/);
    expect(() => checkDataset({ ...ds, labels: Int32Array.from([0, 3, 1]) })).toThrow(
      /labels\[1\] = 3 outside/,
    );
    expect(() => checkDataset({ ...ds, classNames: ['a'] })).toThrow(/classNames has 1 entries/);
  });
});
