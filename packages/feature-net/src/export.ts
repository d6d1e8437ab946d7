// ONNX export of the feature net with the repo's GraphBuilder.
//   input  images   float32 [B, C, H, W] (NCHW), pixel values mapped to [-1, 1] as x/127.5 − 1
//   output features float32 [B, F]       (post-ReLU penultimate layer)
//   output logits   float32 [B, classes]
// A sidecar `<model>.json` (format 'engram-ar-extractor/1') describes input name, layout, size and
// value range plus the output names, so `@engram-ar/metrics` can use the file without guessing.

import { GraphBuilder } from '@engram-ar/onnx';
import { atomicWriteFile } from '@engram-ar/tensor';
import { convOutSize, type FeatureNetModel } from './model.js';

export const EXTRACTOR_FORMAT = 'engram-ar-extractor/1';

export interface ExtractorSidecar {
  format: typeof EXTRACTOR_FORMAT;
  kind: 'classifier';
  input: string;
  layout: 'NCHW';
  height: number;
  width: number;
  channels: number;
  range: [number, number];
  featureOutput: string;
  featureDim: number;
  logitsOutput: string;
  numClasses: number;
  testAccuracy?: number;
}

/** TensorFlow 'same' padding of a 3×3 stride-2 conv along an axis of size n: [begin, end]. */
function samePads(n: number): [number, number] {
  const total = Math.max((convOutSize(n) - 1) * 2 + 3 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** HWIO [3, 3, in, out] → OIHW [out, in, 3, 3]. */
function hwioToOihw(w: Float32Array, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 3; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++)
          out[((o * inC + i) * 3 + y) * 3 + x] = w[((y * 3 + x) * inC + i) * outC + o]!;
  return out;
}

/** Builds the ONNX model bytes and its sidecar description. */
export async function buildFeatureNetOnnx(
  model: FeatureNetModel,
): Promise<{ bytes: Uint8Array; sidecar: ExtractorSidecar }> {
  const { height: h, width: w, channels: c0, numClasses } = model.geometry;
  const { channels1: c1, channels2: c2, features: f } = model.config;
  const p = model.params;
  const data = async (v: keyof typeof p) => (await p[v].data()) as Float32Array;
  const g = new GraphBuilder({ name: 'engram_ar_feature_net' });
  const x = g.input('images', 'float32', ['batch', c0, h, w]);
  const convLayer = async (
    input: string,
    name: 'conv1' | 'conv2',
    inC: number,
    outC: number,
    ih: number,
    iw: number,
  ) => {
    const wt = g.init(`${name}_w`, hwioToOihw(await data(`${name}_w`), inC, outC), [outC, inC, 3, 3]);
    const b = g.init(`${name}_b`, await data(`${name}_b`), [outC]);
    const [pt, pb] = samePads(ih);
    const [pl, pr] = samePads(iw);
    return g.op('Relu', [
      g.op('Conv', [input, wt, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [pt, pl, pb, pr] }),
    ]);
  };
  const h1 = await convLayer(x, 'conv1', c0, c1, h, w);
  const h2 = await convLayer(h1, 'conv2', c1, c2, convOutSize(h), convOutSize(w));
  // tfjs flattens NHWC; transpose first so the dense weights apply unchanged
  const flat = g.op('Flatten', [g.op('Transpose', [h2], { perm: [0, 2, 3, 1] })], { axis: 1 });
  const flatDim = convOutSize(convOutSize(h)) * convOutSize(convOutSize(w)) * c2;
  const fc1w = g.init('fc1_w', await data('fc1_w'), [flatDim, f]);
  const fc1b = g.init('fc1_b', await data('fc1_b'), [f]);
  const feats = g.op('Relu', [g.op('Gemm', [flat, fc1w, fc1b])]);
  const fc2w = g.init('fc2_w', await data('fc2_w'), [f, numClasses]);
  const fc2b = g.init('fc2_b', await data('fc2_b'), [numClasses]);
  const logits = g.op('Gemm', [feats, fc2w, fc2b]);
  g.output('features', 'float32', ['batch', f], feats);
  g.output('logits', 'float32', ['batch', numClasses], logits);
  const sidecar: ExtractorSidecar = {
    format: EXTRACTOR_FORMAT,
    kind: 'classifier',
    input: 'images',
    layout: 'NCHW',
    height: h,
    width: w,
    channels: c0,
    range: [-1, 1],
    featureOutput: 'features',
    featureDim: f,
    logitsOutput: 'logits',
    numClasses,
    ...(model.testAccuracy !== undefined ? { testAccuracy: model.testAccuracy } : {}),
  };
  g.metadata('engram-ar.extractor', JSON.stringify(sidecar));
  return { bytes: g.toBytes(), sidecar };
}

export function sidecarPath(onnxPath: string): string {
  return onnxPath.endsWith('.onnx') ? `${onnxPath.slice(0, -'.onnx'.length)}.json` : `${onnxPath}.json`;
}

/** Writes `path` (.onnx) and its sidecar `<path without .onnx>.json`, both atomically. */
export async function exportFeatureNetOnnx(model: FeatureNetModel, path: string): Promise<ExtractorSidecar> {
  const { bytes, sidecar } = await buildFeatureNetOnnx(model);
  await atomicWriteFile(path, bytes);
  await atomicWriteFile(sidecarPath(path), `${JSON.stringify(sidecar, null, 2)}\n`);
  return sidecar;
}
