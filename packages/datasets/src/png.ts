// Preview grids: tile N images into one PNG. The tiling is a pure function (`tileImages`) so it can be
// checked pixel by pixel; `writeGridPng` only encodes with sharp and writes atomically.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import sharp from 'sharp';

export interface ImageGeometry {
  height: number;
  width: number;
  channels: number; // 1, 3 or 4
}

/** A batch of images with its geometry; an `ImageDataset` is one. */
export interface ImageBatch extends ImageGeometry {
  images: Uint8Array; // [N, H, W, C]
}

export interface GridOptions {
  /** Pixels of border between and around tiles (default 2). */
  pad?: number;
  /** Value of the border pixels (default 0, black). */
  padValue?: number;
  /** Integer nearest-neighbour upscale factor applied to each tile (default 1). */
  scale?: number;
}

export interface RawImage {
  data: Uint8Array; // [height, width, channels]
  height: number;
  width: number;
  channels: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`writeGridPng: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** Tiles the batch row-major into `cols` columns: tile i sits at row ⌊i/cols⌋, column i mod cols. */
export function tileImages(batch: ImageBatch, cols: number, opts: GridOptions = {}): RawImage {
  const { height: h, width: w, channels: c } = batch;
  positiveInt('height', h);
  positiveInt('width', w);
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`writeGridPng: channels must be 1, 3 or 4, got ${c}`);
  positiveInt('cols', cols);
  const scale = positiveInt('scale', opts.scale ?? 1);
  const pad = opts.pad ?? 2;
  if (!Number.isInteger(pad) || pad < 0)
    throw new Error(`writeGridPng: pad must be a non-negative integer, got ${pad}`);
  const per = h * w * c;
  if (batch.images.length === 0 || batch.images.length % per !== 0) {
    throw new Error(
      `writeGridPng: images has ${batch.images.length} bytes, expected a positive multiple of H×W×C = ${per}`,
    );
  }
  const n = batch.images.length / per;
  const usedCols = Math.min(cols, n);
  const rows = Math.ceil(n / usedCols);
  const th = h * scale;
  const tw = w * scale;
  const height = pad + rows * (th + pad);
  const width = pad + usedCols * (tw + pad);
  const data = new Uint8Array(height * width * c).fill(opts.padValue ?? 0);
  for (let i = 0; i < n; i++) {
    const y0 = pad + Math.floor(i / usedCols) * (th + pad);
    const x0 = pad + (i % usedCols) * (tw + pad);
    for (let y = 0; y < th; y++) {
      const src = i * per + Math.floor(y / scale) * w * c;
      const dst = ((y0 + y) * width + x0) * c;
      for (let x = 0; x < tw; x++) {
        const s = src + Math.floor(x / scale) * c;
        for (let k = 0; k < c; k++) data[dst + x * c + k] = batch.images[s + k]!;
      }
    }
  }
  return { data, height, width, channels: c };
}

export async function encodePng(img: RawImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, {
    raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 },
  })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Writes N images as one PNG grid with `cols` columns (atomically: temp file, fsync, rename; parent folders are created).
 * Call as `writeGridPng(dataset, cols, path)` with anything carrying `{ images, height, width, channels }`,
 * or `writeGridPng(images, { height, width, channels }, cols, path)`. Returns the grid's pixel size.
 */
export async function writeGridPng(
  batch: ImageBatch,
  cols: number,
  path: string,
  opts?: GridOptions,
): Promise<{ width: number; height: number }>;
export async function writeGridPng(
  images: Uint8Array,
  dims: ImageGeometry,
  cols: number,
  path: string,
  opts?: GridOptions,
): Promise<{ width: number; height: number }>;
export async function writeGridPng(
  a: ImageBatch | Uint8Array,
  b: number | ImageGeometry,
  c: number | string,
  d?: string | GridOptions,
  e?: GridOptions,
): Promise<{ width: number; height: number }> {
  const [batch, cols, path, opts] =
    a instanceof Uint8Array
      ? [{ ...(b as ImageGeometry), images: a }, c as number, d as string, e]
      : [a, b as number, c as string, d as GridOptions | undefined];
  const img = tileImages(batch, cols, opts);
  await mkdir(dirname(path), { recursive: true });
  await atomicWriteFile(path, await encodePng(img));
  return { width: img.width, height: img.height };
}
