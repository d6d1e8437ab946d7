import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '@engram-ar/onnx';
import { Rng } from '@engram-ar/tensor/rng';
import { describe, expect, it } from 'vitest';
import {
  computeMetrics,
  computeReference,
  FeatureExtractor,
  prepareImages,
  resizeBilinear,
} from '../src/features.js';

describe('resizeBilinear (align_corners = false)', () => {
  it('2×2 → 4×4 matches torch.nn.functional.interpolate', () => {
    const out = resizeBilinear(Float32Array.of(0, 1, 2, 3), 2, 2, 1, 4, 4);
    expect(Array.from(out)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
  });

  it('4 → 2 averages pixel pairs; equal size copies', () => {
    expect(Array.from(resizeBilinear(Float32Array.of(0, 2, 10, 20), 1, 4, 1, 1, 2))).toEqual([1, 15]);
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(resizeBilinear(x, 1, 3, 2, 1, 3))).toEqual(Array.from(x));
  });
});

describe('prepareImages', () => {
  it('maps [0, 255] to the range, replicates gray to RGB, honours NCHW/NHWC', () => {
    const batch = { images: Uint8Array.of(0, 255, 51, 102), height: 1, width: 2, channels: 1 };
    const base = {
      kind: 'classifier',
      input: 'x',
      featureOutput: 'f',
      height: 1,
      width: 2,
      channels: 3,
      range: [-1, 1],
      batchSize: 8,
    } as const;
    const nchw = prepareImages(batch, 1, 1, { ...base, layout: 'NCHW', range: [0, 1] });
    expect(Array.from(nchw).map((v) => Number(v.toFixed(6)))).toEqual([0.2, 0.4, 0.2, 0.4, 0.2, 0.4]);
    const nhwc = prepareImages(batch, 0, 1, { ...base, layout: 'NHWC', range: [-1, 1] });
    expect(Array.from(nhwc)).toEqual([-1, -1, -1, 1, 1, 1]);
  });
});

/** A tiny "extractor": features = flattened 4×4 gray image, logits = features · W. */
function toyExtractor(dir: string): string {
  const g = new GraphBuilder({ name: 'toy' });
  const x = g.input('pixels', 'float32', ['b', 4, 4, 1]);
  const f = g.op('Flatten', [x], { axis: 1 });
  const w = new Rng(1).fillNormal(new Float32Array(16 * 3));
  const logits = g.op('MatMul', [f, g.init('w', w, [16, 3])]);
  g.output('feat', 'float32', ['b', 16], f);
  g.output('cls', 'float32', ['b', 3], logits);
  const path = join(dir, 'toy.onnx');
  writeFileSync(path, g.toBytes());
  writeFileSync(
    join(dir, 'toy.json'),
    JSON.stringify({
      format: 'engram-ar-extractor/1',
      kind: 'classifier',
      input: 'pixels',
      layout: 'NHWC',
      height: 4,
      width: 4,
      channels: 1,
      range: [0, 1],
      featureOutput: 'feat',
      logitsOutput: 'cls',
      numClasses: 3,
    }),
  );
  return path;
}

describe('FeatureExtractor + computeMetrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-features-'));
  const model = toyExtractor(dir);
  const rng = new Rng(7);
  const n = 64;
  // 8×8 images, resized to the toy's 4×4 input by 2×2 averaging
  const images = Uint8Array.from({ length: n * 64 }, () => rng.int(256));
  const batch = { images, height: 8, width: 8, channels: 1 };

  it('reads the sidecar, batches, and returns features/logits', async () => {
    const ex = await FeatureExtractor.open(model, { batchSize: 10 });
    expect(ex.spec).toMatchObject({ input: 'pixels', layout: 'NHWC', range: [0, 1], batchSize: 10 });
    const out = await ex.extract(batch);
    expect(out.dim).toBe(16);
    expect(out.classes).toBe(3);
    // row 37, pixel (1, 2) of the 4×4 = mean of the 2×2 block at (2..3, 4..5) of the 8×8, / 255
    const px = (y: number, x: number) => images[37 * 64 + y * 8 + x]!;
    const want = (px(2, 4) + px(2, 5) + px(3, 4) + px(3, 5)) / 4 / 255;
    expect(out.features[37 * 16 + 1 * 4 + 2]).toBeCloseTo(want, 6);
    await expect(FeatureExtractor.open(model, { featureOutput: 'nope' })).rejects.toThrow(
      /featureOutput: model has no output 'nope'/,
    );
  });

  it('a set against its own reference: FID ≈ 0, precision = recall = 1', async () => {
    const ex = await FeatureExtractor.open(model);
    const ref = await computeReference(batch, ex, { engine: 'ts' });
    expect(ref.meta.label).toBe('classifier-FID');
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const r = await computeMetrics({
      samples: { ...batch, labels },
      ref,
      extractor: ex,
      bootstrap: 20,
      engine: 'ts',
    });
    expect(r.label).toBe('classifier-FID');
    expect(Math.abs(r.fid)).toBeLessThan(1e-9);
    expect(r.precision).toBe(1);
    expect(r.recall).toBe(1);
    expect(r.is).toBeGreaterThan(1);
    expect(r.fidCI!.low).toBeLessThanOrEqual(r.fidCI!.high);
    // resampling only moves the statistics away (bias > 0); the corrected interval covers the estimate
    expect(r.fidCI!.bias).toBeGreaterThan(0);
    expect(r.fidCI!.low).toBeLessThanOrEqual(r.fid);
    expect(r.fidCI!.high).toBeGreaterThanOrEqual(r.fid);
    expect(r.classConsistency).toBeGreaterThanOrEqual(0);
    // shifted images move away from the reference
    const brighter = { ...batch, images: images.map((v) => Math.min(255, v + 60)) };
    const r2 = await computeMetrics({ samples: brighter, ref, extractor: ex, bootstrap: 0, engine: 'ts' });
    expect(r2.fid).toBeGreaterThan(0.1);
    expect(r2.fidCI).toBeUndefined();
    // an Inception extractor gives standard "FID" and refuses a classifier-FID reference
    const inception = await FeatureExtractor.open(model, { kind: 'inception' });
    expect(inception.label).toBe('FID');
    await expect(computeMetrics({ samples: batch, ref, extractor: inception, bootstrap: 0 })).rejects.toThrow(
      /reference was made for 'classifier-FID', extractor gives 'FID'/,
    );
  });
});
