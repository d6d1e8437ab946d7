import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type ImageBatch, tileImages, writeGridPng } from '../src/index.js';

function randomBatch(n: number, h: number, w: number, c: number): ImageBatch {
  const images = new Uint8Array(n * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  return { images, height: h, width: w, channels: c };
}

/** Inverse mapping (grid pixel → tile pixel or border), independent of tileImages' forward loop. */
function expectedGrid(b: ImageBatch, cols: number, pad: number, scale: number, padValue: number) {
  const n = b.images.length / (b.height * b.width * b.channels);
  const used = Math.min(cols, n);
  const th = b.height * scale;
  const tw = b.width * scale;
  const H = pad + Math.ceil(n / used) * (th + pad);
  const W = pad + used * (tw + pad);
  const out = new Uint8Array(H * W * b.channels);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const r = Math.floor((Y - pad) / (th + pad));
      const c = Math.floor((X - pad) / (tw + pad));
      const y = Y - pad - r * (th + pad);
      const x = X - pad - c * (tw + pad);
      const i = r * used + c;
      const inside = Y >= pad && X >= pad && y < th && x < tw && c < used && i < n;
      for (let k = 0; k < b.channels; k++) {
        const src =
          ((i * b.height + Math.floor(y / scale)) * b.width + Math.floor(x / scale)) * b.channels + k;
        out[(Y * W + X) * b.channels + k] = inside ? b.images[src]! : padValue;
      }
    }
  }
  return { data: out, height: H, width: W };
}

describe('tileImages', () => {
  for (const [n, h, w, c, cols, pad, scale] of [
    [7, 3, 4, 1, 3, 2, 1],
    [5, 2, 2, 3, 5, 0, 3],
    [2, 5, 3, 1, 8, 1, 2],
    [1, 1, 1, 4, 1, 0, 1],
  ] as const) {
    it(`matches the inverse mapping for n=${n} ${h}x${w}x${c} cols=${cols} pad=${pad} scale=${scale}`, () => {
      const b = randomBatch(n, h, w, c);
      const got = tileImages(b, cols, { pad, scale, padValue: 17 });
      const want = expectedGrid(b, cols, pad, scale, 17);
      expect([got.height, got.width, got.channels]).toEqual([want.height, want.width, c]);
      expect(Buffer.compare(got.data, want.data)).toBe(0);
    });
  }
  it('rejects inconsistent input', () => {
    expect(() => tileImages({ ...randomBatch(1, 2, 2, 1), images: new Uint8Array(5) }, 2)).toThrow(
      /images has 5 bytes, expected a positive multiple of H×W×C = 4/,
    );
    expect(() => tileImages(randomBatch(1, 2, 2, 2), 2)).toThrow(/channels must be 1, 3 or 4/);
    expect(() => tileImages(randomBatch(1, 2, 2, 1), 0)).toThrow(/cols must be a positive integer/);
  });
});

describe('writeGridPng', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-png-'));
  it('writes a PNG that decodes back to the tiled pixels (both call forms)', async () => {
    const b = randomBatch(6, 5, 4, 3);
    const p1 = join(dir, 'a.png');
    const p2 = join(dir, 'b.png');
    const size = await writeGridPng(b, 4, p1, { scale: 2 });
    await writeGridPng(b.images, { height: 5, width: 4, channels: 3 }, 4, p2, { scale: 2 });
    const bytes = readFileSync(p1);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(Buffer.compare(bytes, readFileSync(p2))).toBe(0);
    const { data, info } = await sharp(p1).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([size.width, size.height, 3]);
    expect(Buffer.compare(data, tileImages(b, 4, { scale: 2 }).data)).toBe(0);
  });
});
