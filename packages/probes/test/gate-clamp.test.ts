import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStats } from '@engram-ar/metrics';
import { type LoadedModel, loadModel, releaseModel } from '@engram-ar/sampler';
import { Rng } from '@engram-ar/tensor/rng';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { gateClampProbe, gateDistribution } from '../src/gate-clamp.js';
import { GateClampRecordSchema } from '../src/record.js';
import { featureSampleMetrics } from '../src/sample-metrics.js';

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

describe('featureSampleMetrics', () => {
  it('FID ≈ 0 against its own statistics; confident one-hot logits give IS = exp(H(marginal))', async () => {
    const rng = new Rng(1);
    const n = 200;
    const dim = 4;
    const C = 4;
    const features = rng.fillNormal(new Float32Array(n * dim));
    const classes = Int32Array.from({ length: n }, (_, i) => i % C);
    const logits = new Float32Array(n * C);
    const counts = new Float64Array(C);
    for (let i = 0; i < n; i++) {
      const y = (i + (i % 10 === 0 ? 1 : 0)) % C; // 10 % of samples land on the next class
      logits[i * C + y] = 50;
      counts[y]!++;
    }
    // One-hot predictions: IS = exp(H(marginal)).
    const isWant = Math.exp(-counts.reduce((s, c) => s + (c / n) * Math.log(c / n), 0));
    const r = await featureSampleMetrics({
      features,
      dim,
      logits,
      numClasses: C,
      classes,
      reference: await computeStats(features, dim),
      splits: 1,
      replicates: 20,
    });
    expect(Math.abs(r.fid!.value!)).toBeLessThan(1e-6);
    expect(r.fid!.high!).toBeGreaterThan(0);
    expect(r.is!.value!).toBeCloseTo(isWant, 6);
    expect(r.classConsistency!.value).toBeCloseTo(0.9, 12);
  });
});
