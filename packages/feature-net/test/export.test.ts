import { createSession } from '@engram-ar/onnx';
import { initBackend, Rng, tf } from '@engram-ar/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatureNetOnnx } from '../src/export.js';
import { createFeatureNet, disposeFeatureNet, forward } from '../src/model.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('ONNX export', () => {
  // odd sizes exercise TensorFlow's asymmetric 'same' padding; 3 channels the HWIO→OIHW transpose
  for (const [h, w, c] of [
    [28, 28, 1],
    [13, 10, 3],
  ] as const) {
    it(`ORT output equals tfjs output on a random-init net (${h}×${w}×${c})`, async () => {
      const model = createFeatureNet(
        { height: h, width: w, channels: c, numClasses: 7 },
        { channels1: 4, channels2: 6, features: 12, seed: 3 },
      );
      // non-zero biases so their layout is checked too
      for (const name of ['conv1_b', 'conv2_b', 'fc1_b', 'fc2_b'] as const) {
        const v = model.params[name];
        v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 5));
      }
      const b = 3;
      const nhwc = new Rng(9).fillNormal(new Float32Array(b * h * w * c), 0, 0.6);
      const ref = forward(model, tf.tensor4d(nhwc, [b, h, w, c]));
      const wantF = await ref.features.data();
      const wantL = await ref.logits.data();
      const nchw = new Float32Array(nhwc.length);
      for (let i = 0; i < b; i++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let k = 0; k < c; k++)
              nchw[((i * c + k) * h + y) * w + x] = nhwc[((i * h + y) * w + x) * c + k]!;
      const { bytes, sidecar } = await buildFeatureNetOnnx(model);
      const s = await createSession(bytes);
      const out = await s.run({ images: { type: 'float32', data: nchw, dims: [b, c, h, w] } });
      expect(out.features!.dims).toEqual([b, 12]);
      expect(out.logits!.dims).toEqual([b, 7]);
      const gotF = out.features!.data as Float32Array;
      const gotL = out.logits!.data as Float32Array;
      let maxF = 0;
      for (let i = 0; i < gotF.length; i++) maxF = Math.max(maxF, Math.abs(gotF[i]! - wantF[i]!));
      let maxL = 0;
      for (let i = 0; i < gotL.length; i++) maxL = Math.max(maxL, Math.abs(gotL[i]! - wantL[i]!));
      expect(maxF).toBeLessThanOrEqual(1e-4);
      expect(maxL).toBeLessThanOrEqual(1e-4);
      expect(wantL.some((v) => Math.abs(v) > 0.1)).toBe(true);
      expect(sidecar).toMatchObject({ input: 'images', layout: 'NCHW', height: h, width: w, channels: c });
      disposeFeatureNet(model);
    });
  }
});
