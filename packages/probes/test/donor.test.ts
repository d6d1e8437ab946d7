import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, type LoadedModel, loadModel, releaseModel, score } from '@engram-ar/sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { donorProbe, selectDonors } from '../src/donor.js';
import { DonorProbeRecordSchema } from '../src/record.js';
import { divergenceRows } from '../src/stats.js';
import { controlTable, readTable, withTable } from '../src/table-override.js';

const CELLS = 16;
const V = 6;

let root: string;
let retrieval: LoadedModel;
let ignores: LoadedModel;
const data = randomGrids(40, CELLS, V, 2, 3);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'probes-donor-'));
  await writeControlModel(join(root, 'retrieval'), { kind: 'retrieval' });
  await writeControlModel(join(root, 'ignores'), { kind: 'ignores-table' });
  retrieval = await loadModel(join(root, 'retrieval'));
  ignores = await loadModel(join(root, 'ignores'));
});
afterAll(async () => {
  await releaseModel(retrieval);
  await releaseModel(ignores);
  await rm(root, { recursive: true, force: true });
});

describe('selectDonors', () => {
  const hamming = (i: number, j: number) => {
    let d = 0;
    for (let k = 0; k < CELLS; k++) if (data.codes[i * CELLS + k] !== data.codes[j * CELLS + k]) d++;
    return d;
  };
  const base = { grids: data.codes, labels: data.labels, cells: CELLS, seed: 1 };

  it('matched / adversarial are the brute-force nearest / farthest same-class grid, never itself', () => {
    const m = selectDonors({ ...base, kind: 'matched' });
    const a = selectDonors({ ...base, kind: 'adversarial' });
    for (let i = 0; i < data.labels.length; i++) {
      const same = [...data.labels.keys()].filter((j) => j !== i && data.labels[j] === data.labels[i]);
      const ds = same.map((j) => hamming(i, j));
      expect(m.donors[i]).not.toBe(i);
      expect(data.labels[m.donors[i]!]).toBe(data.labels[i]);
      expect(m.distances[i]).toBe(Math.min(...ds));
      expect(a.distances[i]).toBe(Math.max(...ds));
      expect(hamming(i, a.donors[i]!)).toBe(a.distances[i]);
    }
  });

  it('random is seeded and same-class; cross-class is another class', () => {
    const r1 = selectDonors({ ...base, kind: 'random' });
    const r2 = selectDonors({ ...base, kind: 'random' });
    const r3 = selectDonors({ ...base, kind: 'random', seed: 2 });
    expect(Array.from(r1.donors)).toEqual(Array.from(r2.donors));
    expect(Array.from(r1.donors)).not.toEqual(Array.from(r3.donors));
    const x = selectDonors({ ...base, kind: 'cross-class' });
    for (let i = 0; i < data.labels.length; i++) {
      expect(data.labels[r1.donors[i]!]).toBe(data.labels[i]);
      expect(r1.donors[i]).not.toBe(i);
      expect(data.labels[x.donors[i]!]).not.toBe(data.labels[i]);
    }
  });

  it('uses a separate pool and skips identical candidates; names a grid without candidates', () => {
    const pool = { codes: data.codes.slice(0, 4 * CELLS), labels: data.labels.slice(0, 4) };
    const m = selectDonors({ ...base, pool, kind: 'matched' });
    // Grid 0 is in the pool: its identical copy (distance 0) must be skipped → pool index 2.
    expect(m.donors[0]).toBe(2);
    const lonely = { codes: data.codes.slice(2 * CELLS, 3 * CELLS), labels: Int32Array.of(0) };
    expect(() => selectDonors({ ...base, pool: lonely, kind: 'random' })).toThrow(/grid 1 \(class 1\)/);
  });
});

describe('table override', () => {
  it('reads the table and rewrites it: same table = same log-probs, zero table differs', async () => {
    const table = await readTable(retrieval);
    expect(table.length).toBe(retrieval.manifest.engram!.tableRows * 4);
    const codes = data.codes.slice(0, 4 * CELLS);
    const base = await score({ model: retrieval, codes, classes: 0 });
    const same = await withTable(retrieval, table);
    const zero = await withTable(retrieval, new Float32Array(table.length));
    try {
      expect(Array.from((await score({ model: same, codes, classes: 0 })).logProbs)).toEqual(
        Array.from(base.logProbs),
      );
      const z = (await score({ model: zero, codes, classes: 0 })).logProbs;
      // Zero rows → v = 0 → h = 0 → uniform next-code distribution at every position.
      for (const x of z) expect(x).toBeCloseTo(-Math.log(V), 5);
      // generate must use the swapped table too (not the original decode graph): greedy on uniform
      // logits picks code 0 everywhere, while the real table does not.
      const greedy = { classes: 0, n: 3, seed: 1, temperature: 0 };
      expect(new Set((await generate({ model: zero, ...greedy })).codes)).toEqual(new Set([0]));
      expect(new Set((await generate({ model: retrieval, ...greedy })).codes).size).toBeGreaterThan(1);
    } finally {
      await same.session.release();
      await zero.session.release();
    }
  });

  it('works on a model whose table lives in external data (inlined into the rewritten model)', async () => {
    const dir = join(root, 'external');
    const mf = await writeControlModel(dir, { kind: 'retrieval', externalDataThreshold: 256 });
    expect(mf.externalData).toBe('model.onnx.data');
    const ext = await loadModel(dir);
    try {
      const table = await readTable(ext);
      expect(Array.from(table)).toEqual(Array.from(await readTable(retrieval)));
      const codes = data.codes.slice(0, 2 * CELLS);
      const swapped = await withTable(ext, table);
      const a = await score({ model: swapped, codes, classes: 1 });
      const b = await score({ model: retrieval, codes, classes: 1 });
      await swapped.session.release();
      expect(Array.from(a.logProbs)).toEqual(Array.from(b.logProbs));
    } finally {
      await releaseModel(ext);
    }
  });

  it('collapsed control: every row of a head block equals the block mean (independent loop)', async () => {
    const t = await readTable(retrieval);
    const c = await controlTable(retrieval, 'collapsed');
    const { offsets, primes } = retrieval.hash!;
    for (let h = 0; h < offsets.length; h++) {
      for (let d = 0; d < 4; d++) {
        let s = 0;
        for (let r = offsets[h]!; r < offsets[h]! + primes[h]!; r++) s += t[r * 4 + d]!;
        for (let r = offsets[h]!; r < offsets[h]! + primes[h]!; r++)
          expect(c[r * 4 + d]).toBeCloseTo(s / primes[h]!, 5);
      }
    }
    const r1 = await controlTable(retrieval, 'randomised', 1);
    expect(Array.from(r1)).toEqual(Array.from(await controlTable(retrieval, 'randomised', 1)));
    expect(Array.from(r1)).not.toEqual(Array.from(t));
  });
});

describe('donorProbe', () => {
  it('positive control: on a model whose logits are a function of the rows, KL equals the donor grid’s own distribution shift', async () => {
    const rec = await donorProbe({
      model: retrieval,
      grids: data.codes,
      labels: data.labels,
      seed: 4,
      bootstrapReplicates: 300,
      permutations: 1999,
    });
    DonorProbeRecordSchema.parse(rec);
    expect(rec.conditions.map((c) => c.name)).toEqual([
      'matched',
      'adversarial',
      'random',
      'cross-class',
      'collapsed',
      'randomised',
    ]);
    // Independent path: with zero embeddings the probe's distribution at p IS the donor grid's own
    // distribution at p (same rows, nothing else reaches the logits), so score the donors directly.
    const donors = selectDonors({
      grids: data.codes,
      labels: data.labels,
      cells: CELLS,
      kind: 'matched',
      seed: '4/donors',
    });
    const donorCodes = new Int32Array(data.codes.length);
    donors.donors.forEach((j, i) => {
      donorCodes.set(data.codes.subarray(j * CELLS, (j + 1) * CELLS), i * CELLS);
    });
    const truth = await score({ model: retrieval, codes: data.codes, classes: data.labels });
    const other = await score({ model: retrieval, codes: donorCodes, classes: data.labels });
    const { kl } = divergenceRows(truth.logProbs, other.logProbs, V);
    const want = kl.reduce((a, b) => a + b, 0) / kl.length;
    const matched = rec.conditions.find((c) => c.name === 'matched')!;
    expect(matched.kl.mean).toBeCloseTo(want, 5);
    expect(matched.kl.low!).toBeLessThan(matched.kl.mean!);
    expect(matched.kl.high!).toBeGreaterThan(matched.kl.mean!);
    expect(matched.donorDistance!.mean).toBeCloseTo(
      donors.distances.reduce((a, b) => a + b, 0) / donors.distances.length,
      12,
    );
    for (const c of rec.conditions) expect(c.kl.mean!).toBeGreaterThan(1e-3);
    // No attention/MLP: a position whose keys equal the true keys sees exactly the true rows → KL 0 there.
    for (const c of rec.conditions.filter((x) => x.kind === 'donor')) {
      expect(c.keySplit!.klSame).toBeLessThan(1e-9);
      expect(c.keySplit!.klChanged!).toBeGreaterThan(0.01);
    }
    expect(rec.conditions.find((c) => c.name === 'collapsed')!.keySplit).toBeNull();
    // Nearer donors share more hash keys: matched must be detectably closer than adversarial.
    const mVsA = rec.comparisons.find((c) => c.a === 'matched' && c.b === 'adversarial')!;
    expect(mVsA.statistic!).toBeLessThan(0);
    expect(mVsA.pValue).toBeLessThan(0.01);
    expect(rec.ratios).toHaveLength(8);
    expect(rec.counts).toMatchObject({ grids: 40, positions: CELLS, vocab: V });
  });

  it('negative controls: a model that ignores its table, or a gate clamped to 0, gives KL = 0 everywhere', async () => {
    for (const [model, gateClamp] of [
      [ignores, undefined],
      [retrieval, 0],
    ] as const) {
      const rec = await donorProbe({
        model,
        grids: data.codes.slice(0, 10 * CELLS),
        labels: data.labels.slice(0, 10),
        gateClamp,
        bootstrapReplicates: 50,
        permutations: 99,
      });
      for (const c of rec.conditions) {
        expect(c.kl.mean).toBe(0);
        expect(c.js.mean).toBe(0);
      }
      for (const c of rec.comparisons) expect(c.pValue).toBe(1);
      for (const r of rec.ratios) expect(r.ratio.mean).toBeNull(); // 0/0
    }
  });

  it('reports progress per stage', async () => {
    const stages: string[] = [];
    await donorProbe({
      model: retrieval,
      grids: data.codes.slice(0, 6 * CELLS),
      labels: data.labels.slice(0, 6),
      kinds: ['random'],
      controls: ['collapsed'],
      bootstrapReplicates: 20,
      permutations: 9,
      onProgress: (p) => stages.push(`${p.stage} ${p.done}/${p.total}`),
    });
    expect(stages).toEqual(['baseline 1/3', 'random 2/3', 'collapsed 3/3']);
  });
});
