import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { score } from '@engram-ar/sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { frozenTableProbe } from '../src/frozen-table.js';
import { positiveControl } from '../src/positive-control.js';
import { FrozenTableRecordSchema, PositiveControlRecordSchema, writeRecord } from '../src/record.js';

const CELLS = 16;
const V = 6;
let root: string;
const held = randomGrids(10, CELLS, V, 2, 21);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'probes-protocols-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const meanBits = async (dir: string) => {
  const r = await score({ model: dir, codes: held.codes, classes: held.labels });
  return r.nll.reduce((a, b) => a + b, 0) / r.nll.length / (CELLS * Math.LN2);
};

describe('frozenTableProbe', () => {
  it('trains both variants per seed through the callback; Δbits/code equals an independent score', async () => {
    const trained: string[] = [];
    const rec = await frozenTableProbe({
      seeds: [1, 2],
      // Stand-ins for the backbone trainer: the 'frozen' twin is a model that ignores its table.
      train: async (variant, seed) => {
        trained.push(`${variant}:${seed}`);
        const dir = join(root, `${variant}-${seed}`);
        await writeControlModel(dir, { kind: variant === 'learned' ? 'retrieval' : 'ignores-table', seed });
        return dir;
      },
      grids: held.codes,
      labels: held.labels,
      samples: {
        n: 4,
        evaluate: async (codes) => ({ zeros: { value: codes.filter((c) => c === 0).length } }),
      },
      bootstrapReplicates: 100,
      permutations: 99,
    });
    FrozenTableRecordSchema.parse(rec);
    expect(trained).toEqual(['learned:1', 'frozen:1', 'learned:2', 'frozen:2']);
    for (const run of rec.runs) {
      const want = (await meanBits(run.frozen.dir)) - (await meanBits(run.learned.dir));
      expect(run.deltaBitsPerCode.mean).toBeCloseTo(want, 5);
      expect(run.deltaSamples.zeros).toBe(
        run.frozen.samples!.zeros!.value! - run.learned.samples!.zeros!.value!,
      );
    }
    expect(rec.summary.deltaBitsPerCode).toBeCloseTo(
      (rec.runs[0]!.deltaBitsPerCode.mean! + rec.runs[1]!.deltaBitsPerCode.mean!) / 2,
      12,
    );
  });

  it('uses given model pairs; identical pairs give Δ = 0 and p = 1', async () => {
    const dir = join(root, 'learned-1');
    const rec = await frozenTableProbe({
      seeds: [1],
      models: [{ seed: 1, learned: dir, frozen: dir }],
      grids: held.codes,
      labels: held.labels,
      bootstrapReplicates: 50,
      permutations: 99,
    });
    expect(rec.runs[0]!.deltaBitsPerCode.mean).toBe(0);
    expect(rec.runs[0]!.testBitsPerCode.pValue).toBe(1);
    await expect(frozenTableProbe({ seeds: [3], grids: held.codes, labels: held.labels })).rejects.toThrow(
      /seed 3/,
    );
  });
});

describe('positiveControl', () => {
  it('runs E2 + E3 with the train split as donor pool and applies the criteria to the record', async () => {
    const train = { ...randomGrids(30, CELLS, V, 2, 5), numClasses: 2, vocab: V, height: 4, width: 4 };
    const test = { ...randomGrids(12, CELLS, V, 2, 6), numClasses: 2, vocab: V, height: 4, width: 4 };
    let fitted = 0;
    const rec = await positiveControl({
      train,
      test,
      datasetInfo: { name: 'random-grids' },
      fit: async () => {
        fitted++;
        const dir = join(root, 'pc');
        await writeControlModel(dir, { kind: 'retrieval' });
        return { dir, info: { steps: 0 } };
      },
      evalCount: 8,
      poolCount: 20,
      gateClamp: { clamps: [0, 0.1], bootstrapReplicates: 50, permutations: 99 },
      donor: { bootstrapReplicates: 50, permutations: 199 },
      criteria: { pBelow: 0.5, ratioAtLeast: 0.01 },
    });
    PositiveControlRecordSchema.parse(rec);
    expect(fitted).toBe(1);
    expect(rec.donor.inputs.poolSize).toBe(20);
    expect(rec.donor.counts.grids).toBe(8);
    const mr = rec.donor.comparisons.find((c) => c.a === 'matched' && c.b === 'random')!;
    expect(rec.verdict.matchedVsRandomP).toBe(mr.pValue);
    const donorRatios = rec.donor.ratios.map((r) => r.ratio.mean!);
    expect(rec.verdict.minControlRatio).toBe(Math.min(...donorRatios));
    expect(rec.verdict.retrievalDetected).toBe(mr.pValue < 0.5 && Math.min(...donorRatios) >= 0.01);
    // The retrieval model has (numerically) 0 KL where keys agree: a huge or infinite (null) contrast.
    const k = rec.verdict.minKeyContrast;
    expect(k === null || k > 1e3).toBe(true);
    const path = join(root, 'pc.json');
    await writeRecord(path, rec);
    expect(PositiveControlRecordSchema.parse(JSON.parse(await readFile(path, 'utf8')))).toEqual(rec);
  });
});
