import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '@engram-ar/onnx';
import { describe, expect, it } from 'vitest';
import { decodeCodes, imagesToUint8 } from '../src/decode.js';

// A stand-in decoder with the tokenizer's I/O: pixel (c, y, x) of image b = palette[codes[b, y, x], c].
function paletteDecoder(palette: Float32Array, V: number, C: number): Uint8Array {
  const g = new GraphBuilder({ name: 'palette_decoder' });
  const codes = g.input('codes', 'int64', ['B', 'h', 'w']);
  const px = g.gather(g.init('palette', palette, [V, C]), codes); // [B, h, w, C]
  g.output('images', 'float32', ['B', C, 'h', 'w'], g.transpose(px, [0, 3, 1, 2]));
  return g.toBytes();
}

describe('decodeCodes', () => {
  it('runs the decoder in batches and lays images out [n, C, H, W]', async () => {
    const V = 5;
    const C = 3;
    const palette = Float32Array.from({ length: V * C }, (_, i) => -1 + (2 * i) / (V * C - 1));
    const dir = await mkdtemp(join(tmpdir(), 'decode-'));
    const path = join(dir, 'decoder.onnx');
    await writeFile(path, paletteDecoder(palette, V, C));
    const n = 5;
    const codes = Int32Array.from({ length: n * 2 * 3 }, (_, i) => (i * 7) % V);
    const d = await decodeCodes(path, codes, [n, 2, 3], { batchSize: 2 });
    expect([d.n, d.channels, d.height, d.width]).toEqual([n, C, 2, 3]);
    for (let b = 0; b < n; b++)
      for (let c = 0; c < C; c++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 3; x++) {
            const code = codes[(b * 2 + y) * 3 + x]!;
            expect(d.images[((b * C + c) * 2 + y) * 3 + x]).toBe(palette[code * C + c]);
          }
    const u8 = imagesToUint8(d);
    expect(u8[0]).toBe(Math.round((palette[codes[0]! * C]! + 1) * 127.5));
    expect(Math.min(...u8)).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });
});
