// The tfjs-heavy jobs of a run, executed inside pool workers (src/worker.ts): each is a pure function of
// its JSON arguments, writes its outputs into its directory and returns a small JSON result. Every job
// resumes from its own checkpoint, so a killed run loses at most `checkpointEvery` steps per job.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exportOnnx as exportGpt,
  type GPTConfig,
  Trainer,
  type TrainOptionsInput,
} from '@engram-ar/ar-backbone';
import {
  type DatasetSpec,
  type ImageDataset,
  loadDataset,
  makeRuleTextures,
  type RuleTextureConfig,
} from '@engram-ar/datasets';
import { evaluateAccuracy, exportFeatureNetOnnx, trainFeatureNet } from '@engram-ar/feature-net';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import {
  CHECKPOINT_FILE,
  evaluateTokenizer,
  exportOnnx as exportTokenizer,
  loadTokenizer,
  readCodeGrids,
  type TokenizerConfig,
  trainTokenizer,
} from '@engram-ar/vq-tokenizer';

/** Progress callback a task reports through (the worker forwards it over IPC). */
export type TaskProgress = (p: { step: number; total: number; loss?: number; etaSec?: number }) => void;

export interface FeatureNetTask {
  kind: 'feature-net';
  data: DatasetSpec;
  steps: number;
  batchSize: number;
  seed: number;
  /** Output .onnx path (the extractor sidecar is written beside it). */
  out: string;
}

export interface TokenizerTask {
  kind: 'tokenizer';
  data: DatasetSpec;
  config: TokenizerConfig;
  dir: string;
}

/** Code grids of an AR variant: the tokenizer's encode output, or generated rule textures. */
export type GridSource =
  | { kind: 'codes'; dir: string }
  | { kind: 'rule-textures'; config: RuleTextureConfig };

export interface ArTask {
  kind: 'ar';
  name: string;
  config: GPTConfig;
  train: TrainOptionsInput;
  grids: GridSource;
  /** Variant directory: checkpoint.safetensors (+ .json), model/ (ONNX export), result.json. */
  dir: string;
}

export type Task = FeatureNetTask | TokenizerTask | ArTask;

export async function loadImages(spec: DatasetSpec): Promise<{ train: ImageDataset; test: ImageDataset }> {
  return loadDataset(spec);
}

export async function loadGrids(src: GridSource) {
  if (src.kind === 'rule-textures') {
    const t = makeRuleTextures(src.config);
    return { train: t.train, test: t.test };
  }
  const tr = await readCodeGrids(src.dir, 'train');
  const te = await readCodeGrids(src.dir, 'test');
  const m = tr.meta;
  const set = (s: { codes: Int32Array; labels: Int32Array }) => ({
    codes: s.codes,
    labels: s.labels,
    numClasses: m.numClasses,
    vocab: m.vocab,
    height: m.height,
    width: m.width,
  });
  return { train: set(tr), test: set(te) };
}

async function featureNet(t: FeatureNetTask, progress: TaskProgress) {
  const { train, test } = await loadImages(t.data);
  const t0 = performance.now();
  const model = await trainFeatureNet(
    train,
    { steps: t.steps, batchSize: t.batchSize, seed: t.seed },
    {
      progressEvery: 10,
      onProgress: (p) => {
        const sec = (performance.now() - t0) / 1000;
        progress({ step: p.step, total: p.steps, loss: p.loss, etaSec: (sec / p.step) * (p.steps - p.step) });
      },
    },
  );
  const accuracy = await evaluateAccuracy(model, test);
  model.testAccuracy = accuracy;
  await exportFeatureNetOnnx(model, t.out);
  return { accuracy, trainSeconds: (performance.now() - t0) / 1000 };
}

async function tokenizer(t: TokenizerTask, progress: TaskProgress) {
  const { train, test } = await loadImages(t.data);
  const r = await trainTokenizer(train, t.config, {
    checkpointDir: t.dir,
    resume: true,
    onProgress: (p) =>
      progress({ step: p.step, total: p.totalSteps, loss: p.recLoss, etaSec: p.etaMs / 1000 }),
  });
  const { model, step } = await loadTokenizer(join(t.dir, CHECKPOINT_FILE));
  await exportTokenizer(
    { arch: model.arch, values: model.values() },
    { dir: t.dir, height: train.height, width: train.width, trainedSteps: step, dataset: train.name },
  );
  const n = Math.min(500, test.labels.length);
  const per = test.height * test.width * test.channels;
  const ev = await evaluateTokenizer(model, {
    ...test,
    images: test.images.subarray(0, n * per),
    labels: test.labels.subarray(0, n),
  });
  return { steps: r.step, last: r.last, eval: ev };
}

async function ar(t: ArTask, progress: TaskProgress) {
  await mkdir(t.dir, { recursive: true });
  const { train, test } = await loadGrids(t.grids);
  const t0 = performance.now();
  const trainer = await Trainer.create(t.config, train, test, {
    ...t.train,
    checkpointPath: join(t.dir, 'checkpoint.safetensors'),
  });
  const startStep = trainer.step;
  const r = await trainer.run((p) =>
    progress({ step: p.step, total: p.steps, loss: p.bitsPerCode, etaSec: p.etaSec }),
  );
  if (r.stoppedOnNaN) throw new Error(`${t.name}: training diverged (NaN) at step ${r.step}`);
  const manifest = await exportGpt({ model: trainer.model, table: trainer.table }, join(t.dir, 'model'), {
    meta: { variant: t.name, steps: String(r.step) },
  });
  trainer.dispose();
  const result = {
    name: t.name,
    steps: r.step,
    resumedFrom: startStep,
    finalBitsPerCode: r.finalBitsPerCode,
    evals: r.evals,
    trainSeconds: (performance.now() - t0) / 1000,
    onnx: manifest.onnx,
  };
  await atomicWriteFile(join(t.dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export async function runTask(t: Task, progress: TaskProgress): Promise<unknown> {
  switch (t.kind) {
    case 'feature-net':
      return featureNet(t, progress);
    case 'tokenizer':
      return tokenizer(t, progress);
    case 'ar':
      return ar(t, progress);
  }
}
