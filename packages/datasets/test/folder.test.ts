import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts, decodeImageFile, loadDataset, loadFolder } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'engram-folder-'));

/** A w×h image filled with one RGB(A) colour. */
function solid(w: number, h: number, rgba: number[]): Buffer {
  const c = rgba.length;
  const data = Buffer.alloc(w * h * c);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < c; k++) data[i * c + k] = rgba[k]!;
  return data;
}

async function writeImage(
  path: string,
  w: number,
  h: number,
  raw: Buffer,
  channels: 1 | 2 | 3 | 4,
  jpeg = false,
) {
  const img = sharp(raw, { raw: { width: w, height: h, channels } });
  writeFileSync(path, await (jpeg ? img.jpeg({ quality: 95 }) : img.png()).toBuffer());
}

/** Three vertical bands (left red, middle green, right blue), each w/3 wide. */
function bands(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data[(y * w + x) * 3 + Math.floor((3 * x) / w)] = 255;
  }
  return data;
}

const gray = [0, 60, 120, 200, 255];

beforeAll(async () => {
  // classes: 'b-owl', 'a-cat' (sorted to a-cat, b-owl), plus junk that must be ignored
  for (const c of ['a-cat', 'b-owl', '.hidden']) mkdirSync(join(root, 'set', c), { recursive: true });
  for (const [i, v] of gray.entries()) {
    await writeImage(join(root, 'set', 'a-cat', `g${i}.png`), 6 + i, 9, solid(6 + i, 9, [v, v, v]), 3);
    await writeImage(join(root, 'set', 'b-owl', `g${i}.PNG`), 5, 5, solid(5, 5, [v, 255]), 2);
  }
  await writeImage(join(root, 'set', 'b-owl', 'photo.jpg'), 8, 8, solid(8, 8, [200, 200, 200]), 3, true);
  writeFileSync(join(root, 'set', 'a-cat', 'notes.txt'), 'not an image');
  await writeImage(join(root, 'set', '.hidden', 'x.png'), 2, 2, solid(2, 2, [9, 9, 9]), 3);
  await writeImage(join(root, 'wide.png'), 24, 8, bands(24, 8), 3);
  await writeImage(join(root, 'rgba.png'), 4, 4, solid(4, 4, [255, 255, 255, 0]), 4);
  mkdirSync(join(root, 'empty', 'only-class'), { recursive: true });
  mkdirSync(join(root, 'bad', 'k'), { recursive: true });
  writeFileSync(join(root, 'bad', 'k', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n garbage'));
});

describe('folder datasets', () => {
  it('classes are sorted sub-folders; uniform grey images stay exactly that grey', async () => {
    const { train, test } = await loadFolder({ dir: join(root, 'set'), size: 4, channels: 1, testCount: 0 });
    expect(train.classNames).toEqual(['a-cat', 'b-owl']);
    expect(test.labels.length).toBe(0);
    expect(Array.from(classCounts(train.labels, 2))).toEqual([5, 6]);
    expect([train.height, train.width, train.channels]).toEqual([4, 4, 1]);
    // Every image is uniform, so each decoded image must be uniform at its written level (PNG is
    // lossless; the one JPEG, level 200, may be off by a couple of levels).
    const levels: number[][] = [[], []];
    for (let i = 0; i < train.labels.length; i++) {
      const px = Array.from(train.images.subarray(i * 16, (i + 1) * 16));
      expect(Math.max(...px) - Math.min(...px)).toBeLessThanOrEqual(1);
      levels[train.labels[i]!]!.push(px[0]!);
    }
    expect(levels[0]!.sort((x, y) => x - y)).toEqual(gray);
    const owl = levels[1]!.sort((x, y) => x - y);
    const jpeg = owl.findIndex((v, i) => v !== [...gray, 999][i]);
    expect(Math.abs(owl[jpeg]! - 200)).toBeLessThanOrEqual(2);
    expect(owl.filter((_, i) => i !== jpeg)).toEqual(gray);
  });

  it('RGB output keeps colour; greyscale PNGs become 3 equal channels', async () => {
    const { train } = await loadFolder({ dir: join(root, 'set'), size: [3, 5], testCount: 0 });
    expect([train.height, train.width, train.channels]).toEqual([3, 5, 3]);
    const first = train.labels.indexOf(1) * 45; // a grey+alpha PNG of class b-owl
    const px = Array.from(train.images.subarray(first, first + 3));
    expect(px[0]).toBe(px[1]);
    expect(px[1]).toBe(px[2]);
  });

  it('centre-crops instead of squashing (cover + centre)', async () => {
    const px = await decodeImageFile(join(root, 'wide.png'), 4, 4, 3);
    // 24x8 → scale 0.5 → 12x4 → keep the middle 4 columns: the green band.
    for (let y = 0; y < 4; y++) {
      for (const x of [1, 2]) {
        const [r, g, b] = px.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
        expect(g).toBeGreaterThan(200);
        expect(r).toBeLessThan(60);
        expect(b).toBeLessThan(60);
      }
    }
  });

  it('flattens alpha onto black', async () => {
    const px = await decodeImageFile(join(root, 'rgba.png'), 2, 2, 3);
    expect(Array.from(px)).toEqual(new Array(12).fill(0));
  });

  it('splits by seed, stratified and deterministic; testDir gives a fixed test split', async () => {
    const a = await loadDataset({ name: 'folder', dir: join(root, 'set'), size: 2, testCount: 4, seed: 1 });
    const b = await loadDataset({ name: 'folder', dir: join(root, 'set'), size: 2, testCount: 4, seed: 1 });
    expect(Array.from(classCounts(a.test.labels, 2))).toEqual([2, 2]);
    expect(a.train.labels.length).toBe(7);
    expect(Buffer.compare(a.test.images, b.test.images)).toBe(0);
    const t = await loadFolder({ dir: join(root, 'set'), testDir: join(root, 'set'), size: 2 });
    expect([t.train.labels.length, t.test.labels.length]).toEqual([11, 11]);
    expect(t.test.classNames).toEqual(['a-cat', 'b-owl']);
  });

  it('names the folder or file when something is wrong', async () => {
    await expect(loadFolder({ dir: join(root, 'missing') })).rejects.toThrow(
      /dir .*missing is not a directory \(expected .*missing\/<class>\/<image>\.png\|jpg\)/,
    );
    await expect(loadFolder({ dir: join(root, 'empty', 'only-class') })).rejects.toThrow(
      /has no class sub-folders/,
    );
    await expect(loadFolder({ dir: join(root, 'empty') })).rejects.toThrow(
      /class folder .*only-class has no \.png\/\.jpg\/\.jpeg images/,
    );
    await expect(loadFolder({ dir: join(root, 'bad') })).rejects.toThrow(
      /broken\.png: cannot decode as PNG\/JPEG/,
    );
    await expect(loadFolder({ dir: join(root, 'set'), testDir: join(root, 'bad') })).rejects.toThrow(
      /bad\/k is not a class of the train folder \(a-cat, b-owl\)/,
    );
    await expect(loadDataset({ name: 'folder', dir: join(root, 'set'), size: 0 })).rejects.toThrow(
      /spec\.size/,
    );
  });
});
