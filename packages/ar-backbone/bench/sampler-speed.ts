// Codes/s of the ONNX Runtime KV-cache sampler (@engram-ar/sampler on the exported model) vs a tfjs
// full-recompute sampler (every step reruns GPT.forward over the whole sequence, as the trainer's model
// does) on the same model, `small` preset shapes, same batch, greedy. The tfjs side lives here because
// the sampler package may not load TensorFlow.js. Prints one JSON line; target ratio ≥ 20.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHashSpec, rowsForGrids } from '@engram-ar/engram';
import { generate, loadModel, releaseModel } from '@engram-ar/sampler';
import { initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { parseGPTConfig } from '../src/config.js';
import { exportOnnx } from '../src/export.js';
import { GPT, initHostWeights } from '../src/model.js';

const backend = await initBackend({ log: () => {} });
const B = 16;
const vocab = 512;
const config = parseGPTConfig({
  vocab,
  height: 7,
  width: 7,
  numClasses: 10,
  nLayer: 4,
  nHead: 4,
  dim: 256,
  mlpHidden: 688,
  engram: {
    layers: [1],
    vocab,
    tableRows: 100_000,
    dHead: 32,
    heads: 4,
    stencils: [
      ['L', 'U'],
      ['L', 'U', 'UL'],
    ],
  },
});
const N = config.height * config.width;
const host = initHostWeights(config);
const rng = new Rng(1);
rng.fillNormal(host.head!.data, 0, 0.02); // the real init zeroes the head (all logits 0)
const gpt = new GPT(config, host);
const spec = buildHashSpec(config.engram!);
const table = rng.fillNormal(new Float32Array(spec.totalRows * config.engram!.dHead));

// tfjs: one greedy step = host hash + gather + full forward over all N positions, argmax at p.
const classes = Int32Array.from({ length: B }, (_, i) => i % config.numClasses);
const grids = new Int32Array(B * N);
const dh = config.engram!.dHead;
function tfjsStep(p: number): void {
  const rows = rowsForGrids(spec, grids, [B, config.height, config.width], classes);
  const e = new Float32Array(rows.length * dh);
  for (let i = 0; i < rows.length; i++) e.set(table.subarray(rows[i]! * dh, (rows[i]! + 1) * dh), i * dh);
  const logits = tf.tidy(() => {
    const out = gpt.forward({ codes: grids, classes, engram: tf.tensor2d(e, [B * N, e.length / (B * N)]) });
    return out.logits;
  });
  const data = logits.dataSync() as Float32Array;
  logits.dispose();
  for (let b = 0; b < B; b++) {
    let best = 0;
    for (let v = 1; v < vocab; v++)
      if (data[(b * N + p) * vocab + v]! > data[(b * N + p) * vocab + best]!) best = v;
    grids[b * N + p] = best;
  }
}
tfjsStep(0);
const STEPS = 6;
const t0 = performance.now();
for (let p = 1; p <= STEPS; p++) tfjsStep(p);
// Every full-recompute step costs the same (fixed-length forward), so a few steps give the rate.
const tfjsCodesPerSec = (B * STEPS) / ((performance.now() - t0) / 1000);

const dir = await mkdtemp(join(tmpdir(), 'sampler-speed-'));
const out: Record<string, unknown> = {
  bench: 'sampler-vs-tfjs',
  backend: backend.name,
  batch: B,
  grid: [7, 7],
};
out.tfjs_full_recompute_codes_per_s = Number(tfjsCodesPerSec.toFixed(1));
await exportOnnx({ model: gpt, table }, dir);
// 'decode': decode.onnx over the host KV cache (generate's default); 'step': the past/present graph.
for (const decodeGraph of [true, false]) {
  const model = await loadModel(dir, { decodeGraph });
  await generate({ model, classes, n: B, seed: 0, temperature: 0, batchSize: B });
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const res = await generate({ model, classes, n: B, seed: 0, temperature: 0, batchSize: B });
    best = Math.max(best, (B * N) / (res.stats.totalMs / 1000));
  }
  out[`ort_${decodeGraph ? 'decode' : 'step'}_graph_codes_per_s`] = Number(best.toFixed(1));
  await releaseModel(model);
}
out.ratio = Number(((out.ort_decode_graph_codes_per_s as number) / tfjsCodesPerSec).toFixed(1));
out.target = '>= 20';
console.log(JSON.stringify(out));
gpt.dispose();
await rm(dir, { recursive: true, force: true });
