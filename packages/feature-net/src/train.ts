// Training (AdamW, linear-warmup cosine schedule, seeded shuffles) and evaluation of the feature net.
import type { ImageDataset } from '@engram-ar/datasets';
import { AdamW, lrSchedule, Rng, tf } from '@engram-ar/tensor';
import {
  createFeatureNet,
  type FeatureNetConfigInput,
  type FeatureNetModel,
  forward,
  type ImageGeometry,
  imagesToTensor,
} from './model.js';

export interface TrainProgress {
  step: number; // 1-based
  steps: number;
  loss: number; // mean cross-entropy of this step's batch
  lr: number;
}

export interface TrainOptions {
  /** Called every `progressEvery` steps (default 50) and at the last step. */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

function geometryOf(ds: ImageDataset): ImageGeometry {
  return { height: ds.height, width: ds.width, channels: ds.channels, numClasses: ds.numClasses };
}

/** Trains a fresh feature net on `train` (all randomness from config.seed). */
export async function trainFeatureNet(
  train: ImageDataset,
  cfg: FeatureNetConfigInput = {},
  opts: TrainOptions = {},
): Promise<FeatureNetModel> {
  const model = createFeatureNet(geometryOf(train), cfg);
  const { steps, batchSize, lr, weightDecay } = model.config;
  const n = train.labels.length;
  if (n === 0) throw new Error(`trainFeatureNet: dataset '${train.name}' is empty`);
  const p = model.params;
  const opt = new AdamW(
    [
      { params: [p.conv1_w, p.conv2_w, p.fc1_w, p.fc2_w], weightDecay },
      { params: [p.conv1_b, p.conv2_b, p.fc1_b, p.fc2_b], weightDecay: 0 },
    ],
    { lr },
  );
  const schedule = lrSchedule({
    peak: lr,
    warmupSteps: Math.min(50, Math.ceil(steps / 10)),
    totalSteps: steps,
    min: lr / 20,
  });
  const rng = new Rng(model.config.seed).split('feature-net/shuffle');
  let order = rng.permutation(n);
  let cursor = 0;
  const every = opts.progressEvery ?? 50;
  const batchRows = new Int32Array(Math.min(batchSize, n));
  for (let step = 1; step <= steps; step++) {
    for (let i = 0; i < batchRows.length; i++) {
      if (cursor === n) {
        order = rng.permutation(n);
        cursor = 0;
      }
      batchRows[i] = order[cursor++]!;
    }
    const x = imagesToTensor(train.images, model.geometry, batchRows);
    const y = tf.oneHot(
      tf.tensor1d(
        batchRows.map((r) => train.labels[r]!),
        'int32',
      ),
      train.numClasses,
    );
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = forward(model, x);
      return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1))) as tf.Scalar;
    });
    const stepLr = schedule(step - 1);
    opt.applyGradients(grads, stepLr);
    if (opts.onProgress && (step % every === 0 || step === steps)) {
      opts.onProgress({ step, steps, loss: (await value.data())[0]!, lr: stepLr });
    }
    tf.dispose([x, y, value, ...Object.values(grads)]);
  }
  opt.dispose();
  return model;
}

/** Logits [N, classes] and features [N, F] of every image of `ds`, in batches. */
export async function predict(
  model: FeatureNetModel,
  ds: Pick<ImageDataset, 'images' | 'height' | 'width' | 'channels'>,
  opts: { batchSize?: number } = {},
): Promise<{ features: Float32Array; logits: Float32Array }> {
  const g = model.geometry;
  if (ds.height !== g.height || ds.width !== g.width || ds.channels !== g.channels) {
    throw new Error(
      `predict: images are ${ds.height}×${ds.width}×${ds.channels}, the net expects ${g.height}×${g.width}×${g.channels}`,
    );
  }
  const n = ds.images.length / (g.height * g.width * g.channels);
  const f = model.config.features;
  const features = new Float32Array(n * f);
  const logits = new Float32Array(n * g.numClasses);
  const bs = opts.batchSize ?? 256;
  for (let s = 0; s < n; s += bs) {
    const rows = Int32Array.from({ length: Math.min(bs, n - s) }, (_, i) => s + i);
    const x = imagesToTensor(ds.images, g, rows);
    const out = forward(model, x);
    features.set(await out.features.data(), s * f);
    logits.set(await out.logits.data(), s * g.numClasses);
    tf.dispose([x, out.features, out.logits]);
  }
  return { features, logits };
}

/** Share of `ds` whose arg-max logit equals its label; also stored as model.testAccuracy. */
export async function evaluateAccuracy(
  model: FeatureNetModel,
  ds: ImageDataset,
  opts: { batchSize?: number } = {},
): Promise<number> {
  const { logits } = await predict(model, ds, opts);
  const c = ds.numClasses;
  let hits = 0;
  for (let i = 0; i < ds.labels.length; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k]! > logits[i * c + best]!) best = k;
    if (best === ds.labels[i]) hits++;
  }
  const acc = hits / ds.labels.length;
  model.testAccuracy = acc;
  return acc;
}
