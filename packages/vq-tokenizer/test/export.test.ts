import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, maybeDumpModel } from '@engram-ar/onnx';
import { initBackend } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokenizerConfig, presetConfig } from '../src/config.js';
import { exportOnnx, parseManifest } from '../src/export.js';
import { VQModel } from '../src/model.js';
import { maxAbsDiff } from './reference.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
  dir = await mkdtemp(join(tmpdir(), 'vq-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Exports `model`, then compares ORT against tfjs on the same codes and images. */
async function parity(model: VQModel, name: string, h: number, w: number, n: number, seed: string) {
  const out = join(dir, name);
  const r = await exportOnnx({ arch: model.arch, values: model.values() }, { dir: out, height: h, width: w });
  await maybeDumpModel(`vq-${name}-encoder`, r.encoderPath!);
  await maybeDumpModel(`vq-${name}-decoder`, r.decoderPath!);
  const a = model.arch;
  const gh = h / a.downsample;
  const gw = w / a.downsample;
  const rng = new Rng(seed);
  const codes = Int32Array.from({ length: n * gh * gw }, () => rng.int(a.codebookSize));
  const dec = await createSession(r.decoderPath!);
  const o = await dec.run({
    codes: { type: 'int64', data: BigInt64Array.from(codes, BigInt), dims: [n, gh, gw] },
  });
  expect(o.images!.dims).toEqual([n, a.channels, h, w]);
  const decodeDiff = maxAbsDiff(o.images!.data as Float32Array, model.decode(codes, n, gh, gw));

  const images = rng
    .fillNormal(new Float32Array(n * a.channels * h * w), 0, 0.6)
    .map((v) => Math.max(-1, Math.min(1, v)));
  const enc = await createSession(r.encoderPath!);
  const e = await enc.run({ images: { type: 'float32', data: images, dims: [n, a.channels, h, w] } });
  const ortCodes = e.codes!.data as BigInt64Array;
  const tfCodes = model.encode(images, n, h, w);
  let same = 0;
  for (let i = 0; i < tfCodes.length; i++) if (BigInt(tfCodes[i]!) === ortCodes[i]) same++;
  const manifest = parseManifest(JSON.parse(await readFile(r.manifestPath, 'utf8')));
  return { decodeDiff, agreement: same / tfCodes.length, manifest, distinct: new Set(tfCodes).size };
}

describe('ONNX export parity (random init)', () => {
  it('quickstart MNIST shape: decoder ≤ 1e-4, encoder codes ≥ 99.9 %', async () => {
    const cfg = presetConfig('quickstart');
    const m = VQModel.init(cfg.arch, 'export-a');
    const r = await parity(m, 'qs', 28, 28, 16, 'feed-a');
    expect(r.decodeDiff).toBeLessThanOrEqual(1e-4);
    expect(r.agreement).toBeGreaterThanOrEqual(0.999);
    expect(r.distinct).toBeGreaterThan(1);
    expect(r.manifest.grid).toEqual({ height: 7, width: 7 });
    expect(r.manifest.vocab).toBe(64);
    m.dispose();
  }, 30_000);

  it('RGB, non-square 16×24, f = 8, numRes 2: same tolerances', async () => {
    const cfg = parseTokenizerConfig({
      arch: {
        channels: 3,
        baseChannels: 8,
        channelMult: [1, 1, 2, 2],
        numRes: 2,
        downsample: 8,
        normGroups: 4,
        codebookSize: 32,
        codeDim: 4,
      },
      train: {},
    });
    const m = VQModel.init(cfg.arch, 'export-b');
    const r = await parity(m, 'rgb', 16, 24, 4, 'feed-b');
    expect(r.decodeDiff).toBeLessThanOrEqual(1e-4);
    expect(r.agreement).toBeGreaterThanOrEqual(0.999);
    expect(r.manifest.image).toEqual({ channels: 3, height: 16, width: 24 });
    m.dispose();
  }, 30_000);

  it('f = 16 (five levels) on 32×32 RGB → 2×2 codes: same tolerances', async () => {
    const cfg = parseTokenizerConfig({
      arch: {
        channels: 3,
        baseChannels: 4,
        channelMult: [1, 1, 2, 2, 4],
        numRes: 1,
        downsample: 16,
        normGroups: 2,
        codebookSize: 16,
        codeDim: 4,
      },
      train: {},
    });
    const m = VQModel.init(cfg.arch, 'export-c');
    const r = await parity(m, 'f16', 32, 32, 4, 'feed-c');
    expect(r.decodeDiff).toBeLessThanOrEqual(1e-4);
    expect(r.agreement).toBeGreaterThanOrEqual(0.999);
    expect(r.manifest.grid).toEqual({ height: 2, width: 2 });
    m.dispose();
  }, 30_000);

  it('rejects an image size the downsample factor does not divide', async () => {
    const cfg = presetConfig('quickstart');
    const m = VQModel.init(cfg.arch, 0);
    await expect(
      exportOnnx({ arch: cfg.arch, values: m.values() }, { dir, height: 30, width: 28 }),
    ).rejects.toThrow(/not divisible by downsample 4/);
    m.dispose();
  });
});
