import { initBackend, tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d, convPads } from '../src/conv.js';
import { type ConvCase, convGradRef, convRef, maxAbsDiff, outSize } from './reference.js';

const CASES: [number, number, number, 1 | 2, number, number][] = [
  // H, W, k, stride, Ci, Co
  [6, 6, 3, 1, 3, 4],
  [7, 7, 3, 2, 2, 3],
  [8, 6, 3, 2, 3, 2],
  [5, 5, 1, 1, 4, 3],
  [28, 28, 3, 2, 2, 2],
];

describe.each(['wasm', 'cpu'] as const)('conv2d with forward-conv gradients (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, log: () => {} });
  });

  it.each(CASES)('H=%i W=%i k=%i stride=%i matches the loop reference', (h, w, k, stride, ci, co) => {
    const rng = new Rng(`${h}-${w}-${k}-${stride}`);
    const b = 2;
    const c: ConvCase = {
      x: rng.fillNormal(new Float32Array(b * h * w * ci)),
      xShape: [b, h, w, ci],
      w: rng.fillNormal(new Float32Array(k * k * ci * co)),
      k,
      co,
      stride,
      pads: convPads(k, stride),
    };
    const [ho, wo] = outSize(c);
    const dy = rng.fillNormal(new Float32Array(b * ho * wo * co));
    const x = tf.tensor4d(c.x, c.xShape);
    const wt = tf.tensor4d(c.w, [k, k, ci, co]);
    const bias = tf.zeros([co]) as tf.Tensor1D;
    const y = conv2d(x, wt, bias, stride);
    expect(y.shape).toEqual([b, ho, wo, co]);
    expect(maxAbsDiff(y.dataSync(), convRef(c))).toBeLessThan(1e-4);
    const dyT = tf.tensor4d(dy, [b, ho, wo, co]);
    const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, f as tf.Tensor4D, bias, stride), dyT)),
    )([x, wt]);
    const ref = convGradRef(c, dy);
    expect(maxAbsDiff(dx!.dataSync(), ref.dx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(dw!.dataSync(), ref.dw)).toBeLessThan(1e-3);
    tf.dispose([x, wt, bias, y, dyT, dx!, dw!]);
  });
});
