import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classCounts, type ImageDataset, loadDataset, loadMnistAll, mnistDigitsDir } from '../src/index.js';

const P = 28 * 28;

function classMeans(ds: ImageDataset): Float64Array[] {
  const means = Array.from({ length: 10 }, () => new Float64Array(P));
  const counts = classCounts(ds.labels, 10);
  for (let i = 0; i < ds.labels.length; i++) {
    const m = means[ds.labels[i]!]!;
    for (let p = 0; p < P; p++) m[p]! += ds.images[i * P + p]! / counts[ds.labels[i]!]!;
  }
  return means;
}

function fingerprint(ds: ImageDataset, i: number): string {
  return Buffer.from(ds.images.subarray(i * P, (i + 1) * P)).toString('base64');
}

describe('mnist', () => {
  it('loads 10 000 uint8 28x28x1 digits with the package’s per-class counts', async () => {
    const all = await loadMnistAll();
    expect(all.labels.length).toBe(10000);
    expect(all.images.length).toBe(10000 * P);
    expect([all.height, all.width, all.channels, all.numClasses]).toEqual([28, 28, 1, 10]);
    expect(Array.from(classCounts(all.labels, 10))).toEqual([
      1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978,
    ]);
    let min = 255;
    let max = 0;
    let zeros = 0;
    let sum = 0;
    for (const v of all.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      zeros += v === 0 ? 1 : 0;
      sum += v;
    }
    expect([min, max]).toEqual([0, 255]);
    // MNIST is mostly background with bright strokes: ~80 % zeros, mean ≈ 0.13 of full scale.
    expect(zeros / all.images.length).toBeGreaterThan(0.7);
    expect(sum / all.images.length / 255).toBeGreaterThan(0.1);
    expect(sum / all.images.length / 255).toBeLessThan(0.17);
  });

  it('bytes reproduce the package’s floats (v = round(byte/255, 3))', async () => {
    const all = await loadMnistAll();
    const raw = (JSON.parse(readFileSync(join(mnistDigitsDir(), '7.json'), 'utf8')) as { data: number[] })
      .data;
    const start = all.labels.indexOf(7) * P;
    let worst = 0;
    raw.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(all.images[start + i]! / 255 - v));
    });
    expect(raw.length).toBe(1070 * P);
    expect(worst).toBeLessThanOrEqual(0.0005 + 1e-12);
  });

  it('default split: 8000/2000, stratified, a partition, deterministic by seed', async () => {
    const all = await loadMnistAll();
    const { train, test } = await loadDataset({ name: 'mnist' });
    expect([train.labels.length, test.labels.length]).toEqual([8000, 2000]);
    expect(Array.from(classCounts(test.labels, 10))).toEqual([
      200, 225, 198, 206, 196, 173, 203, 214, 189, 196,
    ]);
    const bag = new Map<string, number>();
    const add = (ds: ImageDataset, sign: number) =>
      ds.labels.forEach((y, i) => {
        const k = `${y}:${fingerprint(ds, i)}`;
        bag.set(k, (bag.get(k) ?? 0) + sign);
      });
    add(all, 1);
    add(train, -1);
    add(test, -1);
    expect([...bag.values()].filter((v) => v !== 0)).toEqual([]);
    const again = await loadDataset({ name: 'mnist', seed: 0 });
    expect(Buffer.compare(again.test.images, test.images)).toBe(0);
    const other = await loadDataset({ name: 'mnist', seed: 1 });
    expect(Buffer.compare(other.test.images, test.images)).not.toBe(0);
    const small = await loadDataset({ name: 'mnist', trainCount: 500, testCount: 100 });
    expect([small.train.labels.length, small.test.labels.length]).toEqual([500, 100]);
  });

  it('labels match the pictures: class means differ and a nearest-mean classifier beats 75 %', async () => {
    const { train, test } = await loadDataset({ name: 'mnist' });
    const means = classMeans(train);
    for (let a = 0; a < 10; a++) {
      for (let b = a + 1; b < 10; b++) {
        let d = 0;
        for (let p = 0; p < P; p++) d += (means[a]![p]! - means[b]![p]!) ** 2;
        expect(Math.sqrt(d)).toBeGreaterThan(500); // ≥ ~18 grey levels RMS over 784 pixels
      }
    }
    let correct = 0;
    for (let i = 0; i < test.labels.length; i++) {
      let best = -1;
      let bestD = Number.POSITIVE_INFINITY;
      for (let c = 0; c < 10; c++) {
        let d = 0;
        for (let p = 0; p < P; p++) d += (test.images[i * P + p]! - means[c]![p]!) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      }
      correct += best === test.labels[i] ? 1 : 0;
    }
    // Nearest class mean on MNIST scores ≈ 80 %; shuffled labels would give ≈ 10 %.
    expect(correct / test.labels.length).toBeGreaterThan(0.75);
  });

  it('rejects a bad spec naming the field', async () => {
    await expect(loadDataset({ name: 'mnist', testCount: -1 })).rejects.toThrow(/spec\.testCount/);
    await expect(loadDataset({ name: 'mnist', dir: '/x' } as never)).rejects.toThrow(
      "spec.dir: not a field of the 'mnist' spec",
    );
    await expect(loadDataset({ name: 'cifar' } as never)).rejects.toThrow(/spec\.name/);
  });
});
