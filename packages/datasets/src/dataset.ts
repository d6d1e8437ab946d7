// The one image-dataset shape of the repo, plus the seeded row operations every source shares
// (gather, shuffle, subset, stratified split). All randomness comes from `Rng`, so a (dataset, seed)
// pair always yields the same rows in the same order.
import { Rng } from '@engram-ar/tensor/rng';

export interface ImageDataset {
  name: string;
  images: Uint8Array; // [N, H, W, C], row-major, 0..255
  labels: Int32Array; // [N], each in [0, numClasses)
  numClasses: number;
  classNames: string[]; // [numClasses]
  height: number;
  width: number;
  channels: number; // 1 (gray) or 3 (RGB)
}

export interface DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
}

export function datasetSize(ds: ImageDataset): number {
  return ds.labels.length;
}

/** Throws if the fields of `ds` disagree (buffer length, label range, class names). */
export function checkDataset(ds: ImageDataset): void {
  const where = `dataset '${ds.name}'`;
  for (const k of ['height', 'width', 'channels', 'numClasses'] as const) {
    if (!Number.isInteger(ds[k]) || ds[k] < 1)
      throw new Error(`${where}: ${k} must be a positive integer, got ${ds[k]}`);
  }
  const pixels = ds.height * ds.width * ds.channels;
  if (ds.images.length !== ds.labels.length * pixels) {
    throw new Error(
      `${where}: images has ${ds.images.length} bytes, expected labels.length × H×W×C = ${ds.labels.length} × ${pixels}`,
    );
  }
  if (ds.classNames.length !== ds.numClasses) {
    throw new Error(
      `${where}: classNames has ${ds.classNames.length} entries, expected numClasses = ${ds.numClasses}`,
    );
  }
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i]!;
    if (y < 0 || y >= ds.numClasses)
      throw new Error(`${where}: labels[${i}] = ${y} outside [0, ${ds.numClasses})`);
  }
}

/** New dataset holding rows `indices` of `ds`, in that order (copies pixels). */
export function takeRows(ds: ImageDataset, indices: ArrayLike<number>, name = ds.name): ImageDataset {
  const pixels = ds.height * ds.width * ds.channels;
  const n = ds.labels.length;
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`takeRows: index ${j} outside [0, ${n})`);
    images.set(ds.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    labels[i] = ds.labels[j]!;
  }
  return { ...ds, name, images, labels, classNames: [...ds.classNames] };
}

/** All rows of `ds` in a seeded random order. */
export function shuffleDataset(ds: ImageDataset, seed: number | string): ImageDataset {
  return takeRows(ds, new Rng(seed).split('shuffle').permutation(ds.labels.length));
}

/**
 * `n` rows drawn without replacement: the first `n` of one seeded permutation, so for a fixed seed a
 * smaller subset is always a prefix of a larger one (nested subsets for learning curves).
 */
export function subset(ds: ImageDataset, n: number, seed: number | string): ImageDataset {
  const total = ds.labels.length;
  if (!Number.isInteger(n) || n < 0 || n > total) {
    throw new Error(`subset: n must be an integer in [0, ${total}] for dataset '${ds.name}', got ${n}`);
  }
  return takeRows(ds, new Rng(seed).split('subset').permutation(total).subarray(0, n));
}

export function classCounts(labels: Int32Array, numClasses: number): Int32Array {
  const counts = new Int32Array(numClasses);
  for (const y of labels) counts[y]!++;
  return counts;
}

/**
 * How many of each class go to a split of `total` rows out of `counts.reduce(+)`: proportional quotas
 * rounded by the largest-remainder method (ties to the lower class id), so the sum is exactly `total`.
 */
export function stratifiedQuota(counts: ArrayLike<number>, total: number): Int32Array {
  let n = 0;
  for (let c = 0; c < counts.length; c++) n += counts[c]!;
  if (!Number.isInteger(total) || total < 0 || total > n) {
    throw new Error(`stratifiedQuota: total must be an integer in [0, ${n}], got ${total}`);
  }
  const quota = new Int32Array(counts.length);
  const rema: { c: number; r: number }[] = [];
  let assigned = 0;
  for (let c = 0; c < counts.length; c++) {
    const exact = n === 0 ? 0 : (counts[c]! * total) / n;
    quota[c] = Math.floor(exact);
    assigned += quota[c]!;
    rema.push({ c, r: exact - quota[c]! });
  }
  rema.sort((a, b) => b.r - a.r || a.c - b.c);
  for (let i = 0; assigned < total; i++) {
    quota[rema[i]!.c]!++;
    assigned++;
  }
  return quota;
}

export interface SplitOptions {
  testCount: number;
  seed: number | string;
  /** Keep class proportions in both splits (default true). */
  stratified?: boolean;
}

/**
 * Seeded train/test split. Stratified: each class's rows are permuted with `Rng(seed).split('split')
 * .split(class)` and its first `stratifiedQuota` rows go to test. Both splits are then shuffled, so rows
 * are not grouped by class.
 */
export function splitDataset(ds: ImageDataset, opts: SplitOptions): DatasetSplits {
  const n = ds.labels.length;
  if (!Number.isInteger(opts.testCount) || opts.testCount < 0 || opts.testCount > n) {
    throw new Error(
      `splitDataset: testCount must be an integer in [0, ${n}] for '${ds.name}', got ${opts.testCount}`,
    );
  }
  const rng = new Rng(opts.seed).split('split');
  const isTest = new Uint8Array(n);
  if (opts.stratified ?? true) {
    const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
    for (let i = 0; i < n; i++) byClass[ds.labels[i]!]!.push(i);
    const quota = stratifiedQuota(
      byClass.map((rows) => rows.length),
      opts.testCount,
    );
    byClass.forEach((rows, c) => {
      const perm = rng.split(c).permutation(rows.length);
      for (let k = 0; k < quota[c]!; k++) isTest[rows[perm[k]!]!] = 1;
    });
  } else {
    const perm = rng.split('all').permutation(n);
    for (let k = 0; k < opts.testCount; k++) isTest[perm[k]!] = 1;
  }
  const trainRows: number[] = [];
  const testRows: number[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? testRows : trainRows).push(i);
  const order = (rows: number[], label: string) => {
    const p = rng.split(label).permutation(rows.length);
    return Array.from(p, (k) => rows[k]!);
  };
  return {
    train: takeRows(ds, order(trainRows, 'train-order'), `${ds.name}/train`),
    test: takeRows(ds, order(testRows, 'test-order'), `${ds.name}/test`),
  };
}

/** Concatenates datasets of identical geometry and classes. */
export function concatDatasets(parts: ImageDataset[], name: string): ImageDataset {
  const first = parts[0];
  if (!first) throw new Error('concatDatasets: need at least one dataset');
  const pixels = first.height * first.width * first.channels;
  let n = 0;
  for (const p of parts) {
    if (p.height !== first.height || p.width !== first.width || p.channels !== first.channels) {
      throw new Error(
        `concatDatasets: '${p.name}' is ${p.height}x${p.width}x${p.channels}, expected ${first.height}x${first.width}x${first.channels}`,
      );
    }
    if (p.numClasses !== first.numClasses) {
      throw new Error(
        `concatDatasets: '${p.name}' has ${p.numClasses} classes, expected ${first.numClasses}`,
      );
    }
    n += p.labels.length;
  }
  const images = new Uint8Array(n * pixels);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * pixels);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return { ...first, name, images, labels, classNames: [...first.classNames] };
}
