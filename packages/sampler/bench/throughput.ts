// Sampler FLOP/s at batch 256 ÷ ORT's own MatMul FLOP/s on this machine (same run), share of wall time
// spent outside session.run (hashing, sampling, copies), for both attention lowerings.
import { rm } from 'node:fs/promises';
import { matmulGflops } from '@engram-ar/onnx';
import { generate, loadModel, releaseModel } from '../src/index.js';
import { BENCH_SPEC, flopsPerCode, writeBenchModel } from './lib/bench-model.js';

const BATCH = 256;
const out: Record<string, unknown> = { bench: 'sampler-throughput', batch: BATCH, cfg: 1 };
const D = BENCH_SPEC.dim;
const matmul = await matmulGflops({ m: BATCH, k: D, n: BENCH_SPEC.mlpHidden, threads: 2 });
out.ort_matmul_gflops = Number(matmul.toFixed(2));
// 'decode' = decode.onnx over the host KV cache (what generate uses); 'step_*' = the step graph
// with past/present caches crossing into JS every step, per attention lowering.
const variants = [
  { key: 'decode', attention: 'plain', decodeGraph: true },
  { key: 'step_plain', attention: 'plain', decodeGraph: false },
  { key: 'step_contrib', attention: 'contrib', decodeGraph: false },
] as const;
for (const v of variants) {
  const { dir, manifest } = await writeBenchModel(BENCH_SPEC, v.attention);
  const model = await loadModel(dir, { intraOpNumThreads: 2, decodeGraph: v.decodeGraph });
  const N = manifest.grid.height * manifest.grid.width;
  await generate({ model, classes: 1, n: 32, seed: 0, batchSize: 32 });
  let best = { codesPerSec: 0, outside: 0, hash: 0, sample: 0, cache: 0 };
  for (let r = 0; r < 2; r++) {
    const res = await generate({ model, classes: 1, n: BATCH, seed: r, batchSize: BATCH });
    const codesPerSec = (BATCH * N) / (res.stats.totalMs / 1000);
    const st = res.stats;
    if (codesPerSec > best.codesPerSec)
      best = {
        codesPerSec,
        outside: 1 - st.ortMs / st.totalMs,
        hash: st.hashMs / st.totalMs,
        sample: st.sampleMs / st.totalMs,
        cache: st.cacheMs / st.totalMs,
      };
  }
  const flops = flopsPerCode(manifest, BENCH_SPEC.mlpHidden);
  out.mflops_per_code = Number((flops / 1e6).toFixed(2));
  const gflops = (best.codesPerSec * flops) / 1e9;
  out[`${v.key}_codes_per_s`] = Number(best.codesPerSec.toFixed(1));
  out[`${v.key}_gflops`] = Number(gflops.toFixed(2));
  out[`${v.key}_ratio_to_matmul`] = Number((gflops / matmul).toFixed(3));
  out[`${v.key}_share_outside_ort`] = Number(best.outside.toFixed(3));
  // Of that: hashing + feeds, CFG + sampling, cache appends (the rest is run dispatch latency).
  out[`${v.key}_share_hash`] = Number(best.hash.toFixed(3));
  out[`${v.key}_share_sample`] = Number(best.sample.toFixed(3));
  out[`${v.key}_share_cache`] = Number(best.cache.toFixed(3));
  await releaseModel(model);
  await rm(dir, { recursive: true, force: true });
}
out.ratio = out.decode_ratio_to_matmul;
out.target = '>= 0.4';
console.log(JSON.stringify(out));
