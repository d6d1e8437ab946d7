// Image folders: `dir/<class>/<image>.png|jpg|jpeg`, one sub-folder per class (ImageNet-style).
//
// Classes are the sub-folder names sorted by code point (hidden folders skipped), so class ids are
// stable across machines; files are read in the same sorted order. Each image is decoded by sharp,
// alpha is flattened onto black, then it is scaled so it *covers* height×width and centre-cropped
// (sharp `fit: 'cover'`, `position: 'centre'`) with the Lanczos-3 filter (sharp's default, good for
// downscaling photos), and finally converted to 1-channel luminance (sharp `grayscale()`) or 3-channel sRGB.
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { type DatasetSplits, type ImageDataset, splitDataset } from './dataset.js';

export const FOLDER_IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface FolderOptions {
  /** Root with one sub-folder per class. */
  dir: string;
  /** Output size: a square side or [height, width] (default 32). */
  size?: number | [number, number];
  /** 1 = grayscale luminance, 3 = sRGB (default 3). */
  channels?: 1 | 3;
  /** A separate root with the same class folders used as the test split (then `dir` is all train). */
  testDir?: string;
  /** Test rows when splitting `dir` (stratified, seeded); default round(0.2·N). */
  testCount?: number;
  /** Seed of the split (default 0). */
  seed?: number | string;
}

async function listClassFolder(
  root: string,
  what: string,
): Promise<{ classes: string[]; files: string[][] }> {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(
      `folder dataset: ${what} ${root} is not a directory (expected ${root}/<class>/<image>.png|jpg)`,
    );
  }
  const entries = await readdir(root, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length === 0) {
    throw new Error(
      `folder dataset: ${root} has no class sub-folders (expected ${root}/<class>/<image>.png|jpg)`,
    );
  }
  const files: string[][] = [];
  for (const c of classes) {
    const names = (await readdir(join(root, c), { withFileTypes: true }))
      .filter((e) => e.isFile() && FOLDER_IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0) {
      throw new Error(
        `folder dataset: class folder ${join(root, c)} has no ${FOLDER_IMAGE_EXTENSIONS.join('/')} images`,
      );
    }
    files.push(names.map((n) => join(root, c, n)));
  }
  return { classes, files };
}

/** Decodes one image file to uint8 [height, width, channels] (see the header for the exact pipeline). */
export async function decodeImageFile(
  file: string,
  height: number,
  width: number,
  channels: 1 | 3,
): Promise<Uint8Array> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    let img = sharp(file)
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' });
    img = channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    out = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${file}: cannot decode as PNG/JPEG (${(e as Error).message})`);
  }
  const { info, data } = out;
  if (info.width !== width || info.height !== height || info.channels !== channels) {
    throw new Error(
      `${file}: decoded to ${info.height}x${info.width}x${info.channels}, expected ${height}x${width}x${channels}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function readFolder(
  root: string,
  what: string,
  height: number,
  width: number,
  channels: 1 | 3,
  classNames?: string[],
): Promise<ImageDataset> {
  const { classes, files } = await listClassFolder(root, what);
  const names = classNames ?? classes;
  const jobs: { file: string; label: number }[] = [];
  classes.forEach((c, k) => {
    const label = names.indexOf(c);
    if (label < 0)
      throw new Error(
        `folder dataset: ${join(root, c)} is not a class of the train folder (${names.join(', ')})`,
      );
    for (const file of files[k]!) jobs.push({ file, label });
  });
  const pixels = height * width * channels;
  const images = new Uint8Array(jobs.length * pixels);
  const labels = new Int32Array(jobs.length);
  // sharp decodes on its own thread pool; a bounded batch keeps memory flat on large folders.
  const batch = 16;
  for (let s = 0; s < jobs.length; s += batch) {
    const part = jobs.slice(s, s + batch);
    const decoded = await Promise.all(part.map((j) => decodeImageFile(j.file, height, width, channels)));
    decoded.forEach((d, i) => {
      images.set(d, (s + i) * pixels);
      labels[s + i] = part[i]!.label;
    });
  }
  return {
    name: 'folder',
    images,
    labels,
    numClasses: names.length,
    classNames: [...names],
    height,
    width,
    channels,
  };
}

export async function loadFolder(opts: FolderOptions): Promise<DatasetSplits> {
  const size = opts.size ?? 32;
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  for (const [k, v] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`folder dataset: size ${k} must be a positive integer, got ${v}`);
  }
  const channels = opts.channels ?? 3;
  const all = await readFolder(opts.dir, 'dir', height, width, channels);
  if (opts.testDir !== undefined) {
    const test = await readFolder(opts.testDir, 'testDir', height, width, channels, all.classNames);
    return { train: { ...all, name: 'folder/train' }, test: { ...test, name: 'folder/test' } };
  }
  const testCount = opts.testCount ?? Math.round(0.2 * all.labels.length);
  return splitDataset(all, { testCount, seed: opts.seed ?? 0 });
}
