// Encode/decode images/s on ONNX Runtime vs tfjs (same weights, same batch) and training steps/s on
// the wasm vs cpu tfjs backends, small preset on MNIST. Prints one JSON line.
//   cd packages/vq-tokenizer && npx tsx bench/throughput.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, subset } from '@engram-ar/datasets';
import { createSession } from '@engram-ar/onnx';
import { initBackend } from '@engram-ar/tensor';
import { presetConfig } from '../src/config.js';
import { exportOnnx } from '../src/export.js';
import { imagesNchw } from '../src/images.js';
import { VQModel } from '../src/model.js';
import { trainTokenizer } from '../src/train.js';

const BATCH = 64;
const REPS = 5;
const TRAIN_STEPS = { wasm: 8, cpu: 1 };

function perSecond(images: number, ms: number): number {
  return Number(((images * 1000) / ms).toFixed(1));
}

async function timeIt(reps: number, f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up (kernel compilation, ORT arena)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

async function trainStepsPerSecond(
  backend: 'wasm' | 'cpu',
  ds: Parameters<typeof trainTokenizer>[0],
): Promise<number> {
  await initBackend({ backend, log: () => {} });
  const steps = TRAIN_STEPS[backend];
  const cfg = presetConfig('small', { train: { steps: steps + 1, warmupSteps: 1 } });
  let firstDone = 0;
  let lastDone = 0;
  const r = await trainTokenizer(ds, cfg, {
    onProgress: (p) => {
      if (p.step === 1) firstDone = p.elapsedMs;
      lastDone = p.elapsedMs;
    },
  });
  r.model.dispose();
  return Number(((steps * 1000) / (lastDone - firstDone)).toFixed(3));
}

const { train, test } = await loadDataset({ name: 'mnist', seed: 0 });
const backend = await initBackend({ backend: 'wasm', log: () => {} });
const cfg = presetConfig('small');
const model = VQModel.init(cfg.arch, 0);
const x = imagesNchw(test, 0, BATCH);
const codes = model.encode(x, BATCH, 28, 28, BATCH);

const dir = await mkdtemp(join(tmpdir(), 'vq-bench-'));
const e = await exportOnnx({ arch: cfg.arch, values: model.values() }, { dir, height: 28, width: 28 });
const enc = await createSession(e.encoderPath!);
const dec = await createSession(e.decoderPath!);
const codes64 = BigInt64Array.from(codes, BigInt);

const tfEncodeMs = await timeIt(REPS, () => model.encode(x, BATCH, 28, 28, BATCH));
const tfDecodeMs = await timeIt(REPS, () => model.decode(codes, BATCH, 7, 7, BATCH));
const ortEncodeMs = await timeIt(REPS, () =>
  enc.run({ images: { type: 'float32', data: x, dims: [BATCH, 1, 28, 28] } }),
);
const ortDecodeMs = await timeIt(REPS, () =>
  dec.run({ codes: { type: 'int64', data: codes64, dims: [BATCH, 7, 7] } }),
);
model.dispose();
await rm(dir, { recursive: true, force: true });

const trainSet = subset(train, 512, 0);
const wasmSteps = await trainStepsPerSecond('wasm', trainSet);
const cpuSteps = await trainStepsPerSecond('cpu', trainSet);

const out = {
  bench: 'vq-tokenizer/throughput',
  preset: 'small',
  batch: BATCH,
  tfjsBackend: backend.name,
  encodeImagesPerSec: { tfjs: perSecond(BATCH, tfEncodeMs), ort: perSecond(BATCH, ortEncodeMs) },
  decodeImagesPerSec: { tfjs: perSecond(BATCH, tfDecodeMs), ort: perSecond(BATCH, ortDecodeMs) },
  trainStepsPerSec: { wasm: wasmSteps, cpu: cpuSteps, batch: cfg.train.batchSize },
  ratio: {
    encodeOrtOverTfjs: Number((tfEncodeMs / ortEncodeMs).toFixed(2)),
    decodeOrtOverTfjs: Number((tfDecodeMs / ortDecodeMs).toFixed(2)),
    trainWasmOverCpu: Number((wasmSteps / cpuSteps).toFixed(2)),
  },
};
console.log(JSON.stringify(out));
