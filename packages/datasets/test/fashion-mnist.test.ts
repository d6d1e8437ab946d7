import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  classCounts,
  FASHION_MNIST_DEFAULT_DIR,
  fashionMnistStatus,
  loadDataset,
  loadFashionMnist,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'engram-idx-'));
let dirCount = 0;

/** IDX bytes written field by field with Buffer's big-endian writers (independent of the parser). */
function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  for (const [i, d] of dims.entries()) head.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([head, Buffer.from(data)]);
}

interface Fixture {
  dir: string;
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** A tiny 4x5 "Fashion-MNIST": 12 train and 6 test images, each file optionally gzipped. */
function fixture(gz: (name: string) => boolean, edit?: (name: string, bytes: Buffer) => Buffer): Fixture {
  const dir = join(root, `d${dirCount++}`);
  mkdirSync(dir);
  const make = (n: number, salt: number) => {
    const images = Uint8Array.from({ length: n * 20 }, (_, i) => (i * 37 + salt) & 255);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i * 3 + salt) % 10);
    return { images, labels };
  };
  const tr = make(12, 1);
  const te = make(6, 2);
  const files: [string, Buffer][] = [
    ['train-images-idx3-ubyte', idx(0x803, [12, 4, 5], tr.images)],
    ['train-labels-idx1-ubyte', idx(0x801, [12], tr.labels)],
    ['t10k-images-idx3-ubyte', idx(0x803, [6, 4, 5], te.images)],
    ['t10k-labels-idx1-ubyte', idx(0x801, [6], te.labels)],
  ];
  for (const [name, raw] of files) {
    let bytes = gz(name) ? gzipSync(raw) : raw;
    if (edit) bytes = edit(name, bytes);
    writeFileSync(join(dir, gz(name) ? `${name}.gz` : name), bytes);
  }
  return {
    dir,
    trainImages: tr.images,
    trainLabels: tr.labels,
    testImages: te.images,
    testLabels: te.labels,
  };
}

describe('fashion-mnist IDX loader', () => {
  for (const [label, gz] of [
    ['plain', () => false],
    ['gzipped', () => true],
    ['mixed', (n: string) => n.includes('images')],
  ] as const) {
    it(`reads ${label} files exactly`, async () => {
      const f = fixture(gz);
      const { train, test } = await loadDataset({ name: 'fashion-mnist', dir: f.dir });
      expect([train.height, train.width, train.channels, train.numClasses]).toEqual([4, 5, 1, 10]);
      expect(Buffer.compare(train.images, f.trainImages)).toBe(0);
      expect(Buffer.compare(test.images, f.testImages)).toBe(0);
      expect(Array.from(train.labels)).toEqual(Array.from(f.trainLabels));
      expect(Array.from(test.labels)).toEqual(Array.from(f.testLabels));
      expect(train.classNames[9]).toBe('Ankle boot');
    });
  }

  it('seeded subsets keep image/label pairs together', async () => {
    const f = fixture(() => true);
    const { train } = await loadFashionMnist({ dir: f.dir, trainCount: 5, seed: 3 });
    expect(train.labels.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      const first = train.images[i * 20]!;
      const row = f.trainImages.findIndex(
        (v, j) => j % 20 === 0 && v === first && f.trainImages[j + 1] === train.images[i * 20 + 1],
      );
      expect(train.labels[i]).toBe(f.trainLabels[row / 20]);
    }
  });

  it('missing directory: names it and says how to install', async () => {
    const dir = join(root, 'nope');
    await expect(loadFashionMnist({ dir })).rejects.toThrow(
      `Fashion-MNIST directory ${dir} not found; install it with \`apt-get install dataset-fashion-mnist\``,
    );
    expect(fashionMnistStatus(dir).available).toBe(false);
  });

  it('missing file: names the file and the expected magic', async () => {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    await expect(loadFashionMnist({ dir })).rejects.toThrow(
      `${join(dir, 'train-images-idx3-ubyte')}(.gz) not found (expected IDX 0x00000803 (unsigned-byte IDX, 3 dims))`,
    );
    expect(fashionMnistStatus(dir).problem).toMatch(/lacks train-images-idx3-ubyte\(\.gz\), .*t10k-labels/);
  });

  const corruptions: [string, (name: string) => boolean, (n: string, b: Buffer) => Buffer, RegExp][] = [
    [
      'bad magic',
      () => false,
      (n, b) =>
        n.startsWith('train-images') ? Buffer.concat([Buffer.from([0, 0, 8, 4]), b.subarray(4)]) : b,
      /train-images-idx3-ubyte: bad IDX magic 0x00000804, expected 0x00000803 \(unsigned-byte IDX, 3 dims\)/,
    ],
    [
      'labels passed as images (wrong rank)',
      () => false,
      (n, b) => (n.startsWith('t10k-labels') ? Buffer.concat([Buffer.from([0, 0, 8, 3]), b.subarray(4)]) : b),
      /t10k-labels-idx1-ubyte: bad IDX magic 0x00000803, expected 0x00000801 \(unsigned-byte IDX, 1 dim\)/,
    ],
    [
      'truncated header',
      () => false,
      (n, b) => (n.startsWith('train-images') ? b.subarray(0, 10) : b),
      /train-images-idx3-ubyte: truncated IDX header: 10 bytes, expected at least 16/,
    ],
    [
      'truncated data',
      () => false,
      (n, b) => (n.startsWith('train-images') ? b.subarray(0, b.length - 7) : b),
      /train-images-idx3-ubyte: header declares 12×4×5 = 240 data bytes after the 16-byte header, found 233 \(file truncated\)/,
    ],
    [
      'trailing bytes',
      () => false,
      (n, b) => (n.startsWith('t10k-labels') ? Buffer.concat([b, Buffer.from([1, 2])]) : b),
      /t10k-labels-idx1-ubyte: header declares 6 = 6 data bytes after the 8-byte header, found 8 \(trailing bytes\)/,
    ],
    [
      'truncated gzip',
      () => true,
      (n, b) => (n.startsWith('train-labels') ? b.subarray(0, b.length - 12) : b),
      /train-labels-idx1-ubyte\.gz: corrupt or truncated gzip stream \(unexpected end of file\)/,
    ],
    [
      'corrupt gzip body',
      () => true,
      (n, b) => {
        if (!n.startsWith('train-images')) return b;
        const c = Buffer.from(b);
        c[c.length - 6]! ^= 0xff; // inside the CRC32 trailer
        return c;
      },
      /train-images-idx3-ubyte\.gz: corrupt or truncated gzip stream \(incorrect data check\)/,
    ],
    [
      'label out of range',
      () => false,
      (n, b) => {
        if (!n.startsWith('t10k-labels')) return b;
        const c = Buffer.from(b);
        c[8 + 2] = 10;
        return c;
      },
      /t10k-labels-idx1-ubyte: label\[2\] = 10, expected a class id in \[0, 10\)/,
    ],
    [
      'label/image count mismatch',
      () => false,
      (n, b) => (n.startsWith('train-labels') ? idx(0x801, [11], b.subarray(8, 19)) : b),
      /train-labels-idx1-ubyte holds 11 labels but .*train-images-idx3-ubyte holds 12 images/,
    ],
  ];
  for (const [label, gz, edit, message] of corruptions) {
    it(`corrupt file (${label}) names the file and what was expected`, async () => {
      const f = fixture(gz, edit);
      await expect(loadFashionMnist({ dir: f.dir })).rejects.toThrow(message);
    });
  }

  it('a .gz name without the gzip signature is rejected', async () => {
    const f = fixture(
      () => true,
      (n, b) => (n.startsWith('t10k-images') ? idx(0x803, [6, 4, 5], new Uint8Array(120)) : b),
    );
    await expect(loadFashionMnist({ dir: f.dir })).rejects.toThrow(
      /t10k-images-idx3-ubyte\.gz: named \.gz but lacks the gzip signature 1f 8b/,
    );
  });

  it('default directory: loads the real 60 000/10 000 when installed, else says how to install', async () => {
    const status = fashionMnistStatus();
    if (existsSync(FASHION_MNIST_DEFAULT_DIR) && status.available) {
      const { train, test } = await loadFashionMnist();
      expect([train.labels.length, test.labels.length, train.height, train.width]).toEqual([
        60000, 10000, 28, 28,
      ]);
      expect(Array.from(classCounts(test.labels, 10))).toEqual(new Array(10).fill(1000));
    } else {
      expect(status.problem).toContain('apt-get install dataset-fashion-mnist');
    }
  });
});
