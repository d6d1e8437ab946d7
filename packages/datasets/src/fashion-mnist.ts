// Fashion-MNIST from IDX files (as shipped by Zalando and by Debian's `dataset-fashion-mnist`).
//
// IDX layout: a big-endian u32 magic `0x0000 TT RR` (TT = element type, 0x08 = unsigned byte; RR = rank),
// then RR big-endian u32 dimensions, then the elements row-major. Images are 0x00000803 [N, H, W],
// labels 0x00000801 [N]. Files may be gzip-compressed (detected by the 1f 8b signature, not the name).
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DatasetSplits, type ImageDataset, subset } from './dataset.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_INSTALL_HINT = 'apt-get install dataset-fashion-mnist';
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  dims: number[];
  data: Uint8Array; // row-major, product(dims) elements
}

const hex = (m: number) => `0x${m.toString(16).padStart(8, '0')}`;

function describeMagic(magic: number): string {
  return `${hex(magic)} (unsigned-byte IDX, ${magic & 0xff} dim${(magic & 0xff) === 1 ? '' : 's'})`;
}

/** Parses an uncompressed IDX buffer of unsigned bytes; `file` only labels errors. */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  const rank = expectedMagic & 0xff;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${file}: truncated IDX header: ${bytes.length} bytes, expected at least ${headerBytes} (magic ${describeMagic(expectedMagic)} + ${rank} dims)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new Error(`${file}: bad IDX magic ${hex(magic)}, expected ${describeMagic(expectedMagic)}`);
  }
  const dims: number[] = [];
  for (let r = 0; r < rank; r++) dims.push(view.getUint32(4 + 4 * r, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerBytes;
  if (have !== count) {
    throw new Error(
      `${file}: header declares ${dims.join('×')} = ${count} data bytes after the ${headerBytes}-byte header, found ${have}` +
        (have < count ? ' (file truncated)' : ' (trailing bytes)'),
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip signature. */
export async function readIdxFile(path: string, expectedMagic: number): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(
      `${path}: cannot read (${(e as Error).message}); expected IDX ${describeMagic(expectedMagic)}`,
    );
  }
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gz) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt or truncated gzip stream (${(e as Error).message})`);
    }
  } else if (path.endsWith('.gz')) {
    throw new Error(`${path}: named .gz but lacks the gzip signature 1f 8b`);
  }
  return parseIdx(bytes, path, expectedMagic);
}

/** `dir/base.gz` or `dir/base`, whichever exists (gz preferred); undefined if neither. */
export function findIdxFile(dir: string, base: string): string | undefined {
  for (const name of [`${base}.gz`, base]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface FashionMnistStatus {
  dir: string;
  available: boolean;
  /** Why not, with how to fix it; empty when available. */
  problem: string;
}

export function fashionMnistStatus(dir = FASHION_MNIST_DEFAULT_DIR): FashionMnistStatus {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return {
      dir,
      available: false,
      problem: `Fashion-MNIST directory ${dir} not found; install it with \`${FASHION_MNIST_INSTALL_HINT}\` (files go to ${FASHION_MNIST_DEFAULT_DIR}) or pass the directory holding the IDX files`,
    };
  }
  const missing = Object.values(FASHION_MNIST_FILES).filter((b) => !findIdxFile(dir, b));
  if (missing.length) {
    return {
      dir,
      available: false,
      problem: `Fashion-MNIST: ${dir} lacks ${missing.map((b) => `${b}(.gz)`).join(', ')}; reinstall with \`${FASHION_MNIST_INSTALL_HINT}\``,
    };
  }
  return { dir, available: true, problem: '' };
}

export interface FashionMnistOptions {
  /** Directory with the four IDX files, gzipped or not (default /usr/share/datasets/fashion-mnist). */
  dir?: string;
  /** Seed of the optional subsets (default 0). */
  seed?: number | string;
  /** Keep only this many train rows (seeded subset; default all 60 000, file order). */
  trainCount?: number;
  /** Keep only this many test rows (seeded subset; default all 10 000, file order). */
  testCount?: number;
}

async function loadSplit(dir: string, split: 'train' | 'test'): Promise<ImageDataset> {
  const imagesBase = split === 'train' ? FASHION_MNIST_FILES.trainImages : FASHION_MNIST_FILES.testImages;
  const labelsBase = split === 'train' ? FASHION_MNIST_FILES.trainLabels : FASHION_MNIST_FILES.testLabels;
  const imagesPath = findIdxFile(dir, imagesBase);
  const labelsPath = findIdxFile(dir, labelsBase);
  for (const [p, base, magic] of [
    [imagesPath, imagesBase, IDX_IMAGES_MAGIC],
    [labelsPath, labelsBase, IDX_LABELS_MAGIC],
  ] as const) {
    if (!p) {
      throw new Error(
        `Fashion-MNIST: ${join(dir, base)}(.gz) not found (expected IDX ${describeMagic(magic)}); install with \`${FASHION_MNIST_INSTALL_HINT}\``,
      );
    }
  }
  const img = await readIdxFile(imagesPath!, IDX_IMAGES_MAGIC);
  const lab = await readIdxFile(labelsPath!, IDX_LABELS_MAGIC);
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) {
    throw new Error(
      `Fashion-MNIST: ${labelsPath} holds ${lab.dims[0]} labels but ${imagesPath} holds ${n} images`,
    );
  }
  if (h < 1 || w < 1) throw new Error(`${imagesPath}: image size ${h}×${w}, expected positive dims`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = lab.data[i]!;
    if (y >= FASHION_MNIST_CLASSES.length) {
      throw new Error(
        `${labelsPath}: label[${i}] = ${y}, expected a class id in [0, ${FASHION_MNIST_CLASSES.length})`,
      );
    }
    labels[i] = y;
  }
  return {
    name: `fashion-mnist/${split}`,
    images: img.data,
    labels,
    numClasses: FASHION_MNIST_CLASSES.length,
    classNames: [...FASHION_MNIST_CLASSES],
    height: h,
    width: w,
    channels: 1,
  };
}

/** The official 60 000 / 10 000 split, optionally subset by seed. */
export async function loadFashionMnist(opts: FashionMnistOptions = {}): Promise<DatasetSplits> {
  const dir = opts.dir ?? FASHION_MNIST_DEFAULT_DIR;
  const status = fashionMnistStatus(dir);
  if (!existsSync(dir)) throw new Error(status.problem);
  const seed = opts.seed ?? 0;
  let train = await loadSplit(dir, 'train');
  let test = await loadSplit(dir, 'test');
  if (opts.trainCount !== undefined) train = subset(train, opts.trainCount, seed);
  if (opts.testCount !== undefined) test = subset(test, opts.testCount, seed);
  return { train, test };
}
