import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStats, FeatureExtractor } from '@engram-ar/metrics';
import { createSession, GraphBuilder } from '@engram-ar/onnx';
import { type LoadedModel, loadModel, releaseModel } from '@engram-ar/sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { gateClampProbe, gateDistribution } from '../src/gate-clamp.js';
import { GateClampRecordSchema } from '../src/record.js';
import { imageSampleEvaluator } from '../src/sample-metrics.js';

const CELLS = 16;
const V = 6;
let root: string;
let retrieval: LoadedModel;
const data = randomGrids(12, CELLS, V, 2, 8);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'probes-gate-'));
  await writeControlModel(join(root, 'retrieval'), { kind: 'retrieval' });
  retrieval = await loadModel(join(root, 'retrieval'));
});
afterAll(async () => {
  await releaseModel(retrieval);
  await rm(root, { recursive: true, force: true });
});

describe('gateClampProbe', () => {
  it('closed forms on the retrieval model: learned α ≡ ½, g = 0 is uniform (log2 V bits), g = ½ equals learned', async () => {
    const calls: number[] = [];
    const rec = await gateClampProbe({
      model: retrieval,
      grids: data.codes,
      labels: data.labels,
      clamps: [0, 0.5, 1],
      bootstrapReplicates: 100,
      permutations: 199,
      samples: {
        n: 5,
        temperature: 1,
        evaluate: async (codes, classes) => {
          calls.push(codes.length);
          expect(Array.from(classes)).toEqual([0, 1, 0, 1, 0]);
          return { meanCode: { value: codes.reduce((a, b) => a + b, 0) / codes.length } };
        },
      },
    });
    GateClampRecordSchema.parse(rec);
    expect(rec.settings.map((s) => s.name)).toEqual(['learned', '0', '0.5', '1']);
    expect(calls).toEqual([5 * CELLS, 5 * CELLS, 5 * CELLS, 5 * CELLS]);
    // h = 0 before the Engram block, so <RMSNorm(h), ·> = 0 and α = sigmoid(0) = ½ at every position.
    const [g] = rec.gates;
    expect(g!.mean).toBeCloseTo(0.5, 6);
    expect(g!.std).toBeCloseTo(0, 6);
    expect(g!.quantiles['0.05']).toBeCloseTo(0.5, 6);
    expect(g!.byPosition).toHaveLength(CELLS);
    const zero = rec.settings[1]!;
    expect(zero.bitsPerCode.mean).toBeCloseTo(Math.log2(V), 5);
    expect(zero.bitsPerCode.low).toBeCloseTo(Math.log2(V), 5);
    const half = rec.settings[2]!;
    expect(half.bitsPerCode.mean).toBeCloseTo(rec.settings[0]!.bitsPerCode.mean!, 5);
    expect(Math.abs(half.deltaVsLearned!.mean!)).toBeLessThan(1e-5);
    expect(rec.settings[0]!.deltaVsLearned).toBeNull();
    // The same sample seed under the same effective gate gives the same codes.
    expect(half.samples!.metrics.meanCode!.value).toBe(rec.settings[0]!.samples!.metrics.meanCode!.value);
    expect(zero.testVsLearned!.n).toEqual([12, 12]);
  });

  it('rejects negative clamps by index', async () => {
    await expect(
      gateClampProbe({ model: retrieval, grids: data.codes, labels: data.labels, clamps: [0.1, -1] }),
    ).rejects.toThrow(/clamps\[1\]/);
  });

  it('gateDistribution: per-layer moments, quantiles and position means of [N, P, Le]', () => {
    // Two grids, three positions, two layers: layer 0 = 0..5 in order, layer 1 = constant 0.25.
    const gates = Float32Array.from([0, 0.25, 1, 0.25, 2, 0.25, 3, 0.25, 4, 0.25, 5, 0.25]);
    const [a, b] = gateDistribution(gates, 3, [1, 3]);
    expect(a!.layer).toBe(1);
    expect(a!.mean).toBeCloseTo(2.5, 12);
    expect(a!.std).toBeCloseTo(Math.sqrt(35 / 12), 12);
    expect(a!.quantiles['0.5']).toBeCloseTo(2.5, 12);
    expect(a!.quantiles['0.25']).toBeCloseTo(1.25, 12);
    expect(a!.byPosition).toEqual([1.5, 2.5, 3.5]);
    expect(b!.mean).toBe(0.25);
  });
});

describe('imageSampleEvaluator', () => {
  // Stand-ins: a decoder mapping code c to the grey level 2c/(V−1) − 1 per cell ([B,1,4,4] images), and a
  // classifier extractor whose features are the 16 pixels and whose logits [B,2] are (mean, 0.01) —
  // pixel means are multiples of 0.025, so no sample sits on the decision boundary.
  const decoderBytes = () => {
    const g = new GraphBuilder({ name: 'decoder' });
    const codes = g.input('codes', 'int64', ['batch', 4, 4]);
    const f = g.op('Cast', [codes], { to: 1 });
    const img = g.op('Sub', [g.op('Mul', [f, g.scalar(2 / (V - 1))]), g.scalar(1)]);
    g.output('images', 'float32', ['batch', 1, 4, 4], g.unsqueeze(img, [1]));
    return g.toBytes();
  };
  const extractorPath = async (dir: string) => {
    const g = new GraphBuilder({ name: 'extractor' });
    const x = g.input('x', 'float32', ['batch', 1, 4, 4]);
    const feats = g.reshape(x, [0, 16]);
    const w = new Float32Array(32);
    for (let i = 0; i < 16; i++) w[i * 2] = 1 / 16;
    g.output('features', 'float32', ['batch', 16], feats);
    const bias = g.init('b', Float32Array.of(0, 0.01), [2]);
    g.output(
      'logits',
      'float32',
      ['batch', 2],
      g.op('Add', [g.matmul(feats, g.init('w', w, [16, 2])), bias]),
    );
    const path = join(dir, 'extractor.onnx');
    await g.save(path);
    return path;
  };

  it('decodes, extracts and scores: FID ≈ 0 against the same images, class consistency by hand', async () => {
    const extractor = await FeatureExtractor.open(await extractorPath(root), {
      kind: 'classifier',
      input: 'x',
      layout: 'NCHW',
      height: 4,
      width: 4,
      channels: 1,
      featureOutput: 'features',
      logitsOutput: 'logits',
    });
    const decoder = await createSession(decoderBytes());
    const grids = randomGrids(60, CELLS, V, 2, 9);
    // Reference = the same images' features: FID must vanish.
    const pixels = Float32Array.from(
      grids.codes,
      (c) => Math.round(((2 * c) / (V - 1) - 1 + 1) * 127.5) / 127.5 - 1,
    );
    const ref = { stats: await computeStats(pixels, 16), meta: { label: 'classifier-FID' } };
    const evaluate = imageSampleEvaluator({ decoder, extractor, ref, bootstrap: 10 });
    const m = await evaluate(grids.codes, grids.labels, [60, 4, 4]);
    expect(Math.abs(m['classifier-FID']!.value!)).toBeLessThan(1e-3);
    expect(m.count!.value).toBe(60);
    // Class 0 ⇔ mean pixel > 0.01 (logit 0 wins), class 1 otherwise.
    let hits = 0;
    for (let i = 0; i < 60; i++) {
      let s = 0;
      for (let k = 0; k < 16; k++) s += pixels[i * 16 + k]!;
      if ((s / 16 > 0.01 ? 0 : 1) === grids.labels[i]) hits++;
    }
    expect(m.classConsistency!.value).toBeCloseTo(hits / 60, 12);
    expect(m.is!.value!).toBeGreaterThanOrEqual(1);
    await decoder.release();
  });
});
