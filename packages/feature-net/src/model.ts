// The feature network: a small CNN classifier whose penultimate activations serve as the feature
// space of "classifier-FID" on datasets too small or too unlike ImageNet for Inception-v3.
//
//   images [B, H, W, C] in [-1, 1]
//   → conv 3×3 stride 2 'same' (C → c1) → ReLU          [B, ⌈H/2⌉, ⌈W/2⌉, c1]
//   → conv 3×3 stride 2 'same' (c1 → c2) → ReLU         [B, ⌈H/4⌉, ⌈W/4⌉, c2]
//   → flatten (H, W, C order) → dense F → ReLU = features [B, F]
//   → dense classes = logits [B, classes]
// Strided convolutions instead of pooling keep every op on kernels the wasm backend can train.
import { Rng, tf } from '@engram-ar/tensor';
import { z } from 'zod';

export const featureNetConfigSchema = z
  .object({
    channels1: z.number().int().positive().default(32),
    channels2: z.number().int().positive().default(64),
    features: z.number().int().positive().default(128),
    steps: z.number().int().nonnegative().default(600),
    batchSize: z.number().int().positive().default(64),
    lr: z.number().positive().default(2e-3),
    weightDecay: z.number().nonnegative().default(1e-4),
    seed: z.union([z.number().int(), z.string()]).default(0),
  })
  .strict();

export type FeatureNetConfigInput = z.input<typeof featureNetConfigSchema>;
export type FeatureNetConfig = z.output<typeof featureNetConfigSchema>;

export function parseFeatureNetConfig(cfg: FeatureNetConfigInput = {}): FeatureNetConfig {
  const r = featureNetConfigSchema.safeParse(cfg);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`feature-net config: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export interface ImageGeometry {
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

/** Parameter names, in a fixed order (export and tests rely on it). */
export const PARAM_NAMES = [
  'conv1_w',
  'conv1_b',
  'conv2_w',
  'conv2_b',
  'fc1_w',
  'fc1_b',
  'fc2_w',
  'fc2_b',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export interface FeatureNetModel {
  config: FeatureNetConfig;
  geometry: ImageGeometry;
  /** conv weights HWIO [3, 3, in, out]; dense weights [in, out]. */
  params: Record<ParamName, tf.Variable>;
  /** Test accuracy, once measured (recorded in the export's sidecar). */
  testAccuracy?: number;
}

/** 'same' padding of a stride-2 3×3 conv as TensorFlow does it: extra row/column at the end. */
export function convOutSize(n: number): number {
  return Math.ceil(n / 2);
}

let instance = 0;

/** A randomly initialised network (He-normal weights, zero biases) from `Rng(config.seed)`. */
export function createFeatureNet(
  geometry: ImageGeometry,
  cfgIn: FeatureNetConfigInput = {},
): FeatureNetModel {
  const config = parseFeatureNetConfig(cfgIn);
  const { channels: c0, numClasses } = geometry;
  const { channels1: c1, channels2: c2, features: f } = config;
  const flat = convOutSize(convOutSize(geometry.height)) * convOutSize(convOutSize(geometry.width)) * c2;
  const rng = new Rng(config.seed).split('feature-net/init');
  const prefix = `feature_net_${instance++}`;
  const he = (name: ParamName, shape: number[], fanIn: number): tf.Variable => {
    const data = rng
      .split(name)
      .fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, Math.sqrt(2 / fanIn));
    return tf.variable(tf.tensor(data, shape), true, `${prefix}/${name}`);
  };
  const zeros = (name: ParamName, n: number): tf.Variable =>
    tf.variable(tf.zeros([n]), true, `${prefix}/${name}`);
  return {
    config,
    geometry: { ...geometry },
    params: {
      conv1_w: he('conv1_w', [3, 3, c0, c1], 9 * c0),
      conv1_b: zeros('conv1_b', c1),
      conv2_w: he('conv2_w', [3, 3, c1, c2], 9 * c1),
      conv2_b: zeros('conv2_b', c2),
      fc1_w: he('fc1_w', [flat, f], flat),
      fc1_b: zeros('fc1_b', f),
      fc2_w: he('fc2_w', [f, numClasses], f),
      fc2_b: zeros('fc2_b', numClasses),
    },
  };
}

/** Forward pass: x [B, H, W, C] float32 in [-1, 1] → features [B, F], logits [B, classes]. */
export function forward(
  model: FeatureNetModel,
  x: tf.Tensor4D,
): { features: tf.Tensor2D; logits: tf.Tensor2D } {
  const p = model.params;
  const h1 = tf.relu(tf.add(tf.conv2d(x, p.conv1_w as tf.Tensor4D, 2, 'same'), p.conv1_b));
  const h2 = tf.relu(tf.add(tf.conv2d(h1 as tf.Tensor4D, p.conv2_w as tf.Tensor4D, 2, 'same'), p.conv2_b));
  const flat = tf.reshape(h2, [x.shape[0], -1]);
  const features = tf.relu(
    tf.add(tf.matMul(flat as tf.Tensor2D, p.fc1_w as tf.Tensor2D), p.fc1_b),
  ) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(features, p.fc2_w as tf.Tensor2D), p.fc2_b) as tf.Tensor2D;
  return { features, logits };
}

/** uint8 images [N, H, W, C] rows [start, start+n) → float32 [n, H, W, C] in [-1, 1] (x/127.5 − 1). */
export function imagesToTensor(
  images: Uint8Array,
  geometry: ImageGeometry,
  rows: ArrayLike<number>,
): tf.Tensor4D {
  const { height: h, width: w, channels: c } = geometry;
  const px = h * w * c;
  const out = new Float32Array(rows.length * px);
  for (let i = 0; i < rows.length; i++) {
    const src = rows[i]! * px;
    for (let k = 0; k < px; k++) out[i * px + k] = images[src + k]! / 127.5 - 1;
  }
  return tf.tensor4d(out, [rows.length, h, w, c]);
}

export function disposeFeatureNet(model: FeatureNetModel): void {
  for (const v of Object.values(model.params)) v.dispose();
}
