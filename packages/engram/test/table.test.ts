import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHashSpec, rowsForGrids } from '../src/hash.js';
import { EngramTable, TABLE_TENSOR } from '../src/table.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = buildHashSpec({ layers: [0, 2], tableRows: 400, dHead: 3, vocab: 10, heads: 2, seed: 5 });

function blockMeanStd(t: EngramTable, h: number) {
  const D = t.dHead;
  const start = t.spec.offsets[h]!;
  const end = start + t.spec.primes[h]!;
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  for (let r = start; r < end; r++)
    for (let d = 0; d < D; d++) mean[d]! += t.data[r * D + d]! / (end - start);
  for (let r = start; r < end; r++)
    for (let d = 0; d < D; d++) std[d]! += (t.data[r * D + d]! - mean[d]!) ** 2 / (end - start);
  return { start, end, mean, std: std.map(Math.sqrt) };
}

describe('EngramTable', () => {
  it('initialises N(0, std²) deterministically from the config seed; frozen tables are N(0, 1)', () => {
    const a = new EngramTable(spec, { init: { kind: 'normal', std: 0.5 } });
    const b = new EngramTable(spec, { init: { kind: 'normal', std: 0.5 } });
    expect(a.data).toEqual(b.data);
    expect(a.rows).toBe(spec.totalRows);
    expect(a.data.length).toBe(spec.totalRows * 3);
    const sd = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    expect(sd(a.data)).toBeCloseTo(0.5, 1);
    const f = new EngramTable(spec, { init: { kind: 'frozen', std: 0.5 } });
    expect(f.frozen).toBe(true);
    expect(sd(f.data)).toBeCloseTo(1, 1);
    const c = new EngramTable(spec, { init: { kind: 'normal', std: 0.5, seed: 99 } });
    expect(c.data).not.toEqual(a.data);
  });

  it('gathers rows in id order so each (position, layer) slice is e = concat over (stencil, head)', () => {
    const t = new EngramTable(spec);
    const codes = Int32Array.from({ length: 2 * 3 * 3 }, (_, i) => i % 10);
    const ids = rowsForGrids(spec, codes, [2, 3, 3]);
    const e = t.gatherRows(ids);
    const R = spec.rowsPerPosition;
    const width = spec.numStencils * spec.heads * 3;
    // position 4, layer 1, stencil 1, head 0, dim 2
    const i = 4 * R + 1 * (R / 2) + 1 * spec.heads + 0;
    expect(e[4 * 2 * width + 1 * width + (1 * spec.heads + 0) * 3 + 2]).toBe(t.data[ids[i]! * 3 + 2]);
    for (let j = 0; j < ids.length; j++)
      for (let d = 0; d < 3; d++) expect(e[j * 3 + d]).toBe(t.data[ids[j]! * 3 + d]);
    const out = new Float32Array(e.length);
    expect(t.gatherRows(ids, out)).toBe(out);
    expect(() => t.gatherRows(new Int32Array([t.rows]))).toThrow(/outside/);
    expect(t.rowId(1, 1, 1, 7)).toBe(spec.offsets[spec.heads * 3 + 1]! + 7);
  });

  it('collapse() sets every row of each head block to that block’s mean row', () => {
    const t = new EngramTable(spec);
    const before = Array.from({ length: spec.primes.length }, (_, h) => blockMeanStd(t, h));
    t.collapse();
    before.forEach(({ start, end, mean }) => {
      for (let r = start; r < end; r++)
        for (let d = 0; d < 3; d++) expect(t.data[r * 3 + d]).toBeCloseTo(mean[d]!, 5);
    });
  });

  it('randomise(seed) redraws rows ~ N(mean, std²) of each block, reproducibly', () => {
    const big = buildHashSpec({
      layers: [0],
      tableRows: 20000,
      dHead: 2,
      vocab: 10,
      heads: 2,
      stencils: [['L']],
    });
    const t = new EngramTable(big, { init: { kind: 'normal', std: 0.3 } });
    // Give block 1 a distinctive mean so per-block statistics are visible.
    for (let r = big.offsets[1]!; r < big.totalRows; r++) t.data[r * 2] += 5;
    const before = [0, 1].map((h) => blockMeanStd(t, h));
    const copy = t.data.slice();
    t.randomise(42);
    expect(t.data).not.toEqual(copy);
    [0, 1].forEach((h) => {
      const after = blockMeanStd(t, h);
      for (let d = 0; d < 2; d++) {
        expect(after.mean[d]).toBeCloseTo(before[h]!.mean[d]!, 1);
        expect(after.std[d]! / before[h]!.std[d]!).toBeCloseTo(1, 1);
      }
    });
    const u = new EngramTable(big, { data: copy });
    u.randomise(42);
    expect(u.data).toEqual(t.data);
  });

  it('saves and loads through safetensors (config in the metadata)', async () => {
    const t = new EngramTable(spec, { init: { kind: 'frozen' } });
    const path = join(dir, 't.safetensors');
    await t.save(path);
    const u = await EngramTable.load(path);
    expect(u.data).toEqual(t.data);
    expect(u.frozen).toBe(true);
    expect(u.spec.primes).toEqual(spec.primes);
    expect(Object.keys(t.toTensors())).toEqual([TABLE_TENSOR]);
    const wrong = new EngramTable(buildHashSpec({ layers: [0], tableRows: 10, dHead: 3, vocab: 10 }));
    expect(() => wrong.loadTensors(t.toTensors())).toThrow(/expected F32/);
  });

  it('holds 10M rows in one allocation', () => {
    const huge = buildHashSpec({
      layers: [0],
      stencils: [['L']],
      heads: 1,
      tableRows: 10_000_000,
      dHead: 1,
      vocab: 4,
    });
    const t = new EngramTable(huge, { init: { kind: 'normal', std: 0.1, seed: 1 } });
    expect(t.rows).toBeGreaterThanOrEqual(10_000_000);
    const ids = new Int32Array([0, 9_999_999, t.rows - 1]);
    expect(Array.from(t.gatherRows(ids))).toEqual(Array.from(ids).map((i) => t.data[i]));
    const rng = new Rng(0);
    expect(Number.isFinite(t.data[rng.int(t.rows)]!)).toBe(true);
  });
});
