// Codes/s with a 10k-row vs a 10M-row Engram table (same model otherwise): the host hash and the
// in-graph Gather are O(1) per row, so the ratio should stay ≤ 1.1. The 10M-row table (≥ 1 GiB at
// dHead 32 would be too much RAM for a shared box) uses dHead 16: 640 MB, still via external data.
import { rm } from 'node:fs/promises';
import { generate, loadModel } from '../src/index.js';
import { BENCH_SPEC, writeBenchModel } from './lib/bench-model.js';

const N_IMAGES = 64;
const REPEATS = 3;
const spec = (totalRows: number) => {
  const e = { ...BENCH_SPEC.engram!, dHead: 16 };
  const heads = e.layers.length * 2 /* default stencils */ * (e.heads ?? 4);
  return { ...BENCH_SPEC, engram: { ...e, tableRows: Math.ceil(totalRows / heads) } };
};

async function codesPerSec(totalRows: number): Promise<{ rows: number; codesPerSec: number }> {
  const { dir, manifest } = await writeBenchModel(spec(totalRows), 'contrib');
  const model = await loadModel(dir);
  const N = manifest.grid.height * manifest.grid.width;
  await generate({ model, classes: 1, n: 16, seed: 0, batchSize: 16, cfgScale: 2 });
  let best = 0;
  for (let r = 0; r < REPEATS; r++) {
    const res = await generate({ model, classes: 1, n: N_IMAGES, seed: r, batchSize: N_IMAGES, cfgScale: 2 });
    best = Math.max(best, (N_IMAGES * N) / (res.stats.totalMs / 1000));
  }
  await model.session.release();
  await rm(dir, { recursive: true, force: true });
  return { rows: manifest.engram!.tableRows, codesPerSec: best };
}

const small = await codesPerSec(10_000);
const large = await codesPerSec(10_000_000);
console.log(
  JSON.stringify({
    bench: 'sampler-table-size',
    images: N_IMAGES,
    cfg: 2,
    rows_small: small.rows,
    rows_large: large.rows,
    codes_per_s_small: Number(small.codesPerSec.toFixed(1)),
    codes_per_s_large: Number(large.codesPerSec.toFixed(1)),
    ratio: Number((small.codesPerSec / large.codesPerSec).toFixed(3)),
    target: '<= 1.1',
  }),
);
