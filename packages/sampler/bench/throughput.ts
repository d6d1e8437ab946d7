// Sampler FLOP/s at batch 256 ÷ ORT's own MatMul FLOP/s on this machine (same run), share of wall time
// spent outside session.run (hashing, sampling, copies), for both attention lowerings.
import { rm } from 'node:fs/promises';
import { matmulGflops } from '@engram-ar/onnx';
import { generate, loadModel, releaseModel } from '../src/index.js';
import { BENCH_SPEC, flopsPerCode, writeBenchModel } from './lib/bench-model.js';

const BATCH = 256;
const out: Record<string, unknown> = { bench: 'sampler-throughput', batch: BATCH, cfg: 1 };
const D = BENCH_SPEC.dim;
// The cores are shared with other processes whose load swings by 4× within a minute, so ORT's
// MatMul FLOP/s is re-measured right before every round and each variant's ratio is taken against
// its own round's figure; the reported ratio is the median over rounds.
const matmulNow = () => matmulGflops({ m: BATCH, k: D, n: BENCH_SPEC.mlpHidden, threads: 2, seconds: 1 });
const matmuls: number[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// 'decode' = decode.onnx over the host KV cache (what generate uses); 'step_*' = the step graph
// with past/present caches crossing into JS every step, per attention lowering.
const variants = [
  { key: 'decode', attention: 'plain', decodeGraph: true },
  { key: 'step_plain', attention: 'plain', decodeGraph: false },
  { key: 'step_contrib', attention: 'contrib', decodeGraph: false },
] as const;
// All variants stay loaded and their runs alternate (best of REPEATS each), so load from other
// processes on the shared cores hits every variant alike.
const REPEATS = 5;
const loaded = [];
for (const v of variants) {
  const { dir, manifest } = await writeBenchModel(BENCH_SPEC, v.attention);
  const model = await loadModel(dir, { intraOpNumThreads: 2, decodeGraph: v.decodeGraph });
  await generate({ model, classes: 1, n: 32, seed: 0, batchSize: 32 });
  loaded.push({
    ...v,
    dir,
    manifest,
    model,
    ratios: [] as number[],
    best: { codesPerSec: 0, outside: 0, hash: 0, sample: 0, cache: 0 },
  });
}
for (let r = 0; r < REPEATS; r++) {
  const mm = await matmulNow();
  matmuls.push(mm);
  for (const v of loaded) {
    const N = v.manifest.grid.height * v.manifest.grid.width;
    const res = await generate({ model: v.model, classes: 1, n: BATCH, seed: r, batchSize: BATCH });
    const codesPerSec = (BATCH * N) / (res.stats.totalMs / 1000);
    const st = res.stats;
    v.ratios.push((codesPerSec * flopsPerCode(v.manifest, BENCH_SPEC.mlpHidden)) / 1e9 / mm);
    if (codesPerSec > v.best.codesPerSec)
      v.best = {
        codesPerSec,
        outside: 1 - st.ortMs / st.totalMs,
        hash: st.hashMs / st.totalMs,
        sample: st.sampleMs / st.totalMs,
        cache: st.cacheMs / st.totalMs,
      };
  }
}
out.ort_matmul_gflops_per_round = matmuls.map((x) => Number(x.toFixed(1)));
for (const v of loaded) {
  const { best } = v;
  const flops = flopsPerCode(v.manifest, BENCH_SPEC.mlpHidden);
  out.mflops_per_code = Number((flops / 1e6).toFixed(2));
  const gflops = (best.codesPerSec * flops) / 1e9;
  out[`${v.key}_codes_per_s`] = Number(best.codesPerSec.toFixed(1));
  out[`${v.key}_gflops`] = Number(gflops.toFixed(2));
  out[`${v.key}_ratio_to_matmul_per_round`] = v.ratios.map((x) => Number(x.toFixed(3)));
  out[`${v.key}_ratio_to_matmul`] = Number(median(v.ratios).toFixed(3));
  out[`${v.key}_share_outside_ort`] = Number(best.outside.toFixed(3));
  // Of that: hashing + feeds, CFG + sampling, cache appends (the rest is run dispatch latency).
  out[`${v.key}_share_hash`] = Number(best.hash.toFixed(3));
  out[`${v.key}_share_sample`] = Number(best.sample.toFixed(3));
  out[`${v.key}_share_cache`] = Number(best.cache.toFixed(3));
  await releaseModel(v.model);
  await rm(v.dir, { recursive: true, force: true });
}
out.ratio = out.decode_ratio_to_matmul;
out.target = '>= 0.4';
console.log(JSON.stringify(out));
