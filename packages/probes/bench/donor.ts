// Cost of the donor probe relative to one teacher-forced scoring pass: on the E5-sized shape
// (8×8 grids, vocab 16, 200 held-out grids, 2000-grid donor pool) with a calibration model, the probe
// runs 1 + 4 donor + 2 control scoring passes plus host work (donor search, hashing, divergences,
// bootstrap, permutations). Judged by `ratio` = probe time / one score pass (7 = scoring-bound).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, releaseModel, score } from '@engram-ar/sampler';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { donorProbe } from '../src/donor.js';

const dir = await mkdtemp(join(tmpdir(), 'probes-bench-'));
await writeControlModel(dir, { kind: 'retrieval', vocab: 16, numClasses: 4, height: 8, width: 8 });
const model = await loadModel(dir, { decodeGraph: false });
const held = randomGrids(200, 64, 16, 4, 1);
const pool = randomGrids(2000, 64, 16, 4, 2);
await score({ model, codes: held.codes, classes: held.labels }); // warm-up
let t = performance.now();
await score({ model, codes: held.codes, classes: held.labels });
const scoreMs = performance.now() - t;
t = performance.now();
await donorProbe({ model, grids: held.codes, labels: held.labels, pool });
const probeMs = performance.now() - t;
await releaseModel(model);
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'donor-probe',
    grids: 200,
    pool: 2000,
    cells: 64,
    scoreMs: Math.round(scoreMs),
    probeMs: Math.round(probeMs),
    ratio: Number((probeMs / scoreMs).toFixed(2)),
  }),
);
