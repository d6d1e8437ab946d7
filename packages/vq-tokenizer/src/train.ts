// Training loop: AdamW, warmup + cosine LR, global-norm clipping, dead-code restart, usage and
// perplexity tracking, checkpoints with exact resume.
//
// Exact resume: everything a step depends on is either in the checkpoint (weights, optimiser moments,
// the quantiser's per-code counters, the step) or a pure function of (seed, step): the batch of step s
// comes from the permutation of epoch ⌊s·B/N⌋ seeded by `data/<epoch>`, and the restart draws of step s
// from `restart/<s>`. So a run resumed from step s replays bit-identical steps s, s+1, …
import { join } from 'node:path';
import type { ImageDataset } from '@engram-ar/datasets';
import { AdamW, type AdamWState, clipByGlobalNorm, lrSchedule, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { checkpointExists, loadTokenizer, saveTokenizer } from './checkpoint.js';
import { parseTokenizerConfig, type TokenizerConfig } from './config.js';
import { batchNhwc } from './images.js';
import { paramSpecs, VQModel } from './model.js';
import { CodeUsage } from './usage.js';

export interface TrainProgress {
  step: number; // steps done so far (1-based after the first step)
  totalSteps: number;
  loss: number; // total loss of this step
  recLoss: number; // L2 (+ l1Weight·L1) reconstruction loss
  codebookLoss: number;
  commitLoss: number;
  /** Fraction of codes used at least once in the last `restartAfter` steps. */
  usage: number;
  /** exp(entropy) of this batch's code histogram. */
  perplexity: number;
  restarted: number; // codes re-seeded at this step
  lr: number;
  elapsedMs: number; // wall time of this call so far
  etaMs: number;
}

export interface TrainOptions {
  onProgress?: (p: TrainProgress) => void;
  /** Writes `tokenizer.safetensors` + `tokenizer.json` here every `checkpointEvery` steps and at the end. */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` if there is one. */
  resume?: boolean;
  /** Stop (with a checkpoint) after this many total steps, as if interrupted there. */
  stopAtStep?: number;
}

export interface TrainResult {
  model: VQModel;
  config: TokenizerConfig;
  step: number;
  last: TrainProgress | null;
}

export const CHECKPOINT_FILE = 'tokenizer.safetensors';

/** Indices of the training rows of step `step` (pure function of seed, step, N, B). */
export function batchIndices(seed: number | string, step: number, n: number, batch: number): Int32Array {
  const out = new Int32Array(batch);
  const base = new Rng(seed).split('data');
  let epoch = -1;
  let perm: Int32Array | null = null;
  for (let j = 0; j < batch; j++) {
    const i = step * batch + j;
    const e = Math.floor(i / n);
    if (e !== epoch) {
      epoch = e;
      perm = base.split(e).permutation(n);
    }
    out[j] = perm![i % n]!;
  }
  return out;
}

export async function trainTokenizer(
  dataset: ImageDataset,
  configInput: TokenizerConfig,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const config = parseTokenizerConfig(configInput);
  const a = config.arch;
  if (dataset.channels !== a.channels) {
    throw new Error(
      `trainTokenizer: dataset '${dataset.name}' has ${dataset.channels} channels, config.arch.channels = ${a.channels}`,
    );
  }
  const n = dataset.labels.length;
  const t = config.train;
  const ckptPath = opts.checkpointDir ? join(opts.checkpointDir, CHECKPOINT_FILE) : null;

  let model: VQModel;
  let startStep = 0;
  const usage = new CodeUsage(a.codebookSize, t.restartAfter);
  const specs = paramSpecs(a);
  let optimizer: AdamW;
  const names = specs.map((s) => s.name);
  const makeOptimizer = (m: VQModel) =>
    new AdamW(
      [
        {
          params: specs.filter((s) => s.decay).map((s) => m.params.get(s.name)!),
          weightDecay: t.weightDecay,
        },
        { params: specs.filter((s) => !s.decay).map((s) => m.params.get(s.name)!), weightDecay: 0 },
      ],
      { lr: t.lr },
    );

  if (opts.resume && ckptPath && (await checkpointExists(ckptPath))) {
    const c = await loadTokenizer(ckptPath);
    if (JSON.stringify(c.config.arch) !== JSON.stringify(a)) {
      throw new Error(`resume: checkpoint ${ckptPath} was trained with a different config.arch`);
    }
    model = c.model;
    startStep = c.step;
    optimizer = makeOptimizer(model);
    if (c.optimizer) optimizer.loadState(c.optimizer as AdamWState);
    if (c.usage) usage.load(c.usage);
  } else {
    model = VQModel.init(a, t.seed);
    optimizer = makeOptimizer(model);
  }

  const schedule = lrSchedule({
    peak: t.lr,
    warmupSteps: t.warmupSteps,
    totalSteps: t.steps,
    min: t.lr * 0.1,
  });
  const vars = names.map((k) => model.params.get(k)!);
  const { height: H, width: W, channels: C } = dataset;
  model.gridSize(H, W); // throws now, not mid-run, if f does not divide the image size
  const endStep = Math.min(t.steps, opts.stopAtStep ?? t.steps);
  const t0 = performance.now();
  let last: TrainProgress | null = null;

  const save = async (step: number) => {
    if (!ckptPath) return;
    await saveTokenizer(ckptPath, {
      model,
      config,
      step,
      optimizer: optimizer.state(),
      usage: usage.state(),
      dataset: dataset.name,
      image: { height: H, width: W },
    });
  };

  for (let step = startStep; step < endStep; step++) {
    const idx = batchIndices(t.seed, step, n, t.batchSize);
    const lr = schedule(step);
    const kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const x = tf.tensor4d(batchNhwc(dataset, idx), [idx.length, H, W, C]);
      const q = model.quantize(model.encodeLatent(x));
      const rec = model.decodeLatent(q.zq);
      const diff = tf.sub(rec, x);
      let recLoss = tf.mean(tf.square(diff));
      if (t.l1Weight > 0) recLoss = tf.add(recLoss, tf.mul(tf.mean(tf.abs(diff)), t.l1Weight));
      kept.push(
        tf.keep(q.codes),
        tf.keep(q.zNorm),
        tf.keep(recLoss),
        tf.keep(q.codebookLoss),
        tf.keep(q.commitLoss),
      );
      return tf.addN([recLoss, q.codebookLoss, tf.mul(q.commitLoss, t.beta)]) as tf.Scalar;
    }, vars);
    const clipped = clipByGlobalNorm(grads, t.gradClip);
    // A non-finite gradient (a diverging step) is skipped rather than written into the weights.
    if (Number.isFinite(clipped.norm)) optimizer.applyGradients(clipped.grads, lr);
    tf.dispose([...Object.values(grads), ...Object.values(clipped.grads)]);

    const [codesT, zNormT, recT, cbT, cmT] = kept as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const codes = codesT.dataSync() as Int32Array;
    const perplexity = usage.observe(codes);
    const dead = usage.dead();
    if (dead.length) {
      // Dead codes restart at encoder outputs of this batch (already unit norm), drawn without
      // replacement when the batch has enough positions.
      const rng = new Rng(t.seed).split('restart').split(step);
      const z = zNormT.dataSync() as Float32Array;
      const rows = codes.length;
      const picks = rng.permutation(rows);
      const cb = model.params.get('quant.codebook')!;
      const cbv = cb.dataSync().slice() as Float32Array;
      dead.forEach((code, i) => {
        const r = picks[i % rows]!;
        cbv.set(z.subarray(r * a.codeDim, (r + 1) * a.codeDim), code * a.codeDim);
        usage.reset(code);
      });
      tf.tidy(() => cb.assign(tf.tensor2d(cbv, [a.codebookSize, a.codeDim])));
    }
    const loss = value.dataSync()[0]!;
    const p: TrainProgress = {
      step: step + 1,
      totalSteps: t.steps,
      loss,
      recLoss: recT.dataSync()[0]!,
      codebookLoss: cbT.dataSync()[0]!,
      commitLoss: cmT.dataSync()[0]!,
      usage: usage.usage(),
      perplexity,
      restarted: dead.length,
      lr,
      elapsedMs: performance.now() - t0,
      etaMs: 0,
    };
    p.etaMs = (p.elapsedMs / (step + 1 - startStep)) * (endStep - step - 1);
    tf.dispose([value, ...kept]);
    last = p;
    opts.onProgress?.(p);
    if ((step + 1) % t.checkpointEvery === 0 && step + 1 < endStep) await save(step + 1);
  }
  await save(Math.max(endStep, startStep));
  optimizer.dispose();
  return { model, config, step: Math.max(endStep, startStep), last };
}
